// Checks the Dockerfile without a Docker engine. The build stage must run the package script and
// the CMake configure and build that CI runs. The runtime stage must install the Debian package
// of every shared library that `hft` links, and the image must run `hft serve` as a non-root user.
//
//   HFT_BINARY=build/src/cli/hft node check_dockerfile.mjs
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { Checker, fail, findOnPath, repoRoot, run } from "./checks.mjs";

const kBaseImage = "debian:bookworm-slim";
const kBinaryInBuild = "build/src/cli/hft";

const read = (relativePath) => readFileSync(join(repoRoot, relativePath), "utf8");
const checker = new Checker("Dockerfile");

// Joins continuation lines and drops comments, leaving one instruction per entry.
function instructionsOf(text) {
  const joined = text.replace(/\\\n/g, " ");
  return joined.split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), text: rest.join(" ") };
    });
}

const instructions = instructionsOf(read("Dockerfile"));
const named = (keyword) => instructions.filter((instruction) => instruction.keyword === keyword);
const runText = named("RUN").map((instruction) => instruction.text).join(" && ");

// Stages: every FROM resolves to Debian bookworm-slim, directly or through an ARG default.
const argDefaults = new Map(named("ARG").map((instruction) => instruction.text.split("=", 2))
  .filter(([, value]) => value !== undefined));
const stages = named("FROM").map((instruction) => {
  const [image, , alias] = instruction.text.split(/\s+/);
  const resolved = image.replace(/^\$\{?([A-Za-z_]+)\}?$/, (match, name) => argDefaults.get(name) ?? match);
  return { image: resolved, alias };
});
checker.check("Dockerfile has a build and a runtime stage", stages.length >= 2,
              `${stages.length} stage(s)`);
for (const stage of stages) {
  checker.check(`stage ${stage.alias ?? "(unnamed)"} is based on ${kBaseImage}`,
                stage.image === kBaseImage, stage.image);
}

// The build stage does what CI does: .ci/run calls the package script, the Makefile configures
// with Ninja and the default build type, then builds.
const ciScript = read(".ci/run");
const makefile = read("Makefile");
const makeBuildType = makefile.match(/^BUILD_TYPE\s*\?=\s*(\S+)/m)?.[1];
checker.check(".ci/run runs scripts/install-deps.sh", /scripts\/install-deps\.sh/.test(ciScript));
checker.check("the Makefile configures with cmake -S . -B ... -G Ninja",
              /cmake -S \. -B \S+ -G Ninja/.test(makefile));
checker.check("Dockerfile runs scripts/install-deps.sh", /scripts\/install-deps\.sh/.test(runText));
checker.check("Dockerfile configures with cmake -S . -B build -G Ninja",
              /cmake -S \. -B build -G Ninja/.test(runText));
checker.check(`Dockerfile builds with the Makefile's default build type (${makeBuildType})`,
              runText.includes(`-DCMAKE_BUILD_TYPE=${makeBuildType}`));
checker.check("Dockerfile leaves tests and benchmarks out",
              runText.includes("-DHFT_BUILD_TESTS=OFF") && runText.includes("-DHFT_BUILD_BENCH=OFF"));
checker.check("Dockerfile builds with cmake --build build", /cmake --build build\b/.test(runText));
checker.check(`Dockerfile copies ${kBinaryInBuild} from the build stage`,
              named("COPY").some((instruction) =>
                instruction.text.startsWith("--from=") && instruction.text.includes(kBinaryInBuild)));

// What the image runs and exposes.
const user = named("USER").at(-1)?.text ?? "";
checker.check("image runs as a non-root user", user !== "" && !/^(root|0)(:|$)/.test(user), user);
checker.check("image exposes port 8000",
              named("EXPOSE").some((instruction) => /\b8000\b/.test(instruction.text)));
checker.check("image health check requests /health",
              named("HEALTHCHECK").some((instruction) => instruction.text.includes("/health")));
const dataDir = named("ENV").map((instruction) => instruction.text.match(/DATA_DIR=(\S+)/)?.[1])
  .find((value) => value);
checker.check("image sets DATA_DIR", Boolean(dataDir));
checker.check("DATA_DIR is a volume",
              named("VOLUME").some((instruction) => dataDir && instruction.text.includes(dataDir)));
const entrypoint = JSON.parse(named("ENTRYPOINT").at(-1)?.text ?? "[]");
const command = JSON.parse(named("CMD").at(-1)?.text ?? "[]");
checker.check("image runs `hft serve` by default",
              [...entrypoint, ...command].join(" ") === "hft serve",
              JSON.stringify([...entrypoint, ...command]));

// .dockerignore keeps the build context small without hiding a file that the build reads.
const ignored = read(".dockerignore").split("\n").map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));
for (const path of [".git", "build"]) {
  checker.check(`.dockerignore leaves out ${path}`, ignored.includes(path));
}
for (const path of ["CMakeLists.txt", "src", "scripts", "scripts/install-deps.sh"]) {
  checker.check(`.dockerignore keeps ${path}`,
                !ignored.some((pattern) => pattern === path || path.startsWith(`${pattern}/`)));
}

// The runtime packages cover every shared library that a fresh build links directly (the
// NEEDED entries); apt installs the libraries those depend on.
const binary = process.env.HFT_BINARY;
if (!binary) {
  fail("HFT_BINARY is not set; the CMake test sets it to the path of the built hft");
}
const runtimeInstall = named("RUN").map((instruction) => instruction.text)
  .find((text) => text.includes("apt-get install")) ?? "";
// The package names stand between `apt-get install -y --no-install-recommends` and the next `&&`.
const installArguments = runtimeInstall.match(/apt-get install ([^&]*)/)?.[1] ?? "";
const runtimePackages = new Set(installArguments.split(/\s+/)
  .filter((word) => word && !word.startsWith("-")));
// Packages that the image needs for something other than a library of `hft`.
const kToolPackages = new Set(["curl"]);
const dynamicSection = run("readelf", ["--dynamic", binary]);
checker.check(`readelf reads ${binary}`, dynamicSection.status === 0, dynamicSection.stderr);
const needed = [...dynamicSection.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)]
  .map(([, library]) => library);
const linked = run("ldd", [binary]);
checker.check(`ldd resolves the libraries of ${binary}`, linked.status === 0, linked.stderr);
const pathOf = new Map([...linked.stdout.matchAll(/^\s*(\S+) => (\/\S+)/gm)]
  .map(([, library, path]) => [library, path]));
// libc6 is essential in every Debian image, so it needs no install line.
const kEssential = new Set(["libc6"]);
const dpkg = findOnPath("dpkg");
if (!dpkg) {
  console.log("note: dpkg is missing, so the runtime packages were not compared with the binary");
}
const owners = new Set();
for (const library of dpkg ? needed : []) {
  const path = pathOf.get(library);
  if (!path) {
    checker.check(`ldd finds ${library}`, false);
    continue;
  }
  // dpkg records a library under /lib or /usr/lib, whichever its package installs.
  const candidates = [path, path.replace(/^\/usr\/lib\//, "/lib/"), path.replace(/^\/lib\//, "/usr/lib/")];
  const owner = candidates.map((candidate) => run(dpkg, ["-S", candidate]))
    .find((result) => result.status === 0)?.stdout.split(":")[0];
  if (!owner) {
    checker.check(`${library} belongs to a Debian package`, false, path);
    continue;
  }
  checker.check(`runtime stage installs ${owner} for ${library}`,
                kEssential.has(owner) || runtimePackages.has(owner));
  owners.add(owner);
}
for (const name of dpkg ? runtimePackages : []) {
  checker.check(`runtime package ${name} is needed by hft or the health check`,
                owners.has(name) || kToolPackages.has(name),
                "no library of hft comes from it: remove it from the runtime stage");
}

checker.finish();
