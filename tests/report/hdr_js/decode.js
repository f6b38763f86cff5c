// Decodes an HdrHistogram V2 compressed Base64 string with hdr-histogram-js and prints what the
// library read: total count, the non-empty buckets as [lowest value, count], and percentiles.
// Usage: node decode.js FILE, where FILE contains the Base64 text.
"use strict";
const fs = require("fs");
const hdr = require("hdr-histogram-js");

const encoded = fs.readFileSync(process.argv[2], "utf8").trim();
const histogram = hdr.decodeFromCompressedBase64(encoded, 64);
const buckets = [];
for (let index = 0; index < histogram.countsArrayLength; index++) {
  const count = histogram.getCountAtIndex(index);
  if (count > 0) buckets.push([histogram.valueFromIndex(index), count]);
}
process.stdout.write(
  JSON.stringify({
    total: histogram.totalCount,
    max: histogram.maxValue,
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    buckets: buckets,
  }) + "\n"
);
