// Renders one kustomization with `kubectl kustomize` and validates every object against the
// Kubernetes schemas of the npm package kubernetes-models. Then it checks what the load test
// relies on: the names, the references between objects, and the Indexed Job that gives each
// client its id.
//
//   node check_k8s.mjs KUSTOMIZATION_DIR [EXPECTED_CLIENTS]
//
// Without EXPECTED_CLIENTS the Job's completions and parallelism must only agree.
// Exits 77 (skipped) when no kubectl exists; scripts/install-deps.sh provides one.
import { Checker, fail, findKubectl, importPackage, run, skip } from "./checks.mjs";

const kNamespace = "hft-testing";
const kJobName = "hft-load-test";
const kConfigMapName = "load-test-config";
const kBackendName = "hft-backend";
const kBackendPort = 8000;
const kCompletionIndexPath = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
const kApiUrlPattern = /^http:\/\/hft-backend(\.hft-testing\.svc(\.cluster\.local)?)?:8000$/;

const [kustomizationDir, expectedClientsText] = process.argv.slice(2);
const expectedClients = expectedClientsText === undefined ? null : Number(expectedClientsText);
if (!kustomizationDir || (expectedClients !== null &&
                          (!Number.isInteger(expectedClients) || expectedClients < 1))) {
  fail("usage: node check_k8s.mjs KUSTOMIZATION_DIR [EXPECTED_CLIENTS (a positive integer)]");
}

const kubectl = findKubectl();
if (!kubectl) {
  skip("no kubectl to render kustomizations: run scripts/install-deps.sh, or set KUBECTL");
}

const { parseAllDocuments } = await importPackage("yaml");
const checker = new Checker(`k8s ${kustomizationDir}`);

// Render.
const rendered = run(kubectl, ["kustomize", kustomizationDir]);
if (rendered.status !== 0) {
  fail(`'${kubectl} kustomize ${kustomizationDir}' failed (exit ${rendered.status}):\n${rendered.stderr}`);
}
const documents = parseAllDocuments(rendered.stdout);
for (const document of documents) {
  if (document.errors.length > 0) {
    fail(`kustomize output is not valid YAML: ${document.errors[0].message}`);
  }
}
const objects = documents.map((document) => document.toJS()).filter((object) => object);
checker.check("kustomization renders objects", objects.length > 0, "the output is empty");

const describe = (object) => `${object.kind}/${object.metadata?.name}`;
const find = (kind, name) =>
  objects.find((object) => object.kind === kind && object.metadata?.name === name);
const findAll = (kind) => objects.filter((object) => object.kind === kind);

// Schema validation: the model module of each kind is kubernetes-models/<apiVersion>/<kind>.
for (const object of objects) {
  const specifier = `kubernetes-models/${object.apiVersion}/${object.kind}`;
  let model;
  try {
    model = (await import(specifier))[object.kind];
  } catch (error) {
    checker.check(`${describe(object)} has a schema`, false, `${specifier}: ${error.message}`);
    continue;
  }
  let problem = "";
  try {
    new model(object).validate();
  } catch (error) {
    problem = error.message;
  }
  checker.check(`${describe(object)} matches the ${object.apiVersion} schema`, !problem, problem);
}

// Namespace.
checker.check(`Namespace ${kNamespace} exists`, Boolean(find("Namespace", kNamespace)));
for (const object of objects.filter((object) => object.kind !== "Namespace")) {
  const namespace = object.metadata?.namespace;
  checker.check(`${describe(object)} is in namespace ${kNamespace}`, namespace === kNamespace,
                `namespace is ${namespace}`);
}

// Pod templates: every workload's containers, with the object they belong to.
const workloads = objects.filter((object) => object.spec?.template?.spec?.containers);
const containersOf = (workload) => workload.spec.template.spec.containers;

for (const workload of workloads) {
  for (const container of containersOf(workload)) {
    const name = `${describe(workload)} container ${container.name}`;
    const resources = container.resources ?? {};
    for (const kind of ["requests", "limits"]) {
      checker.check(`${name} sets ${kind} for cpu and memory`,
                    resources[kind]?.cpu !== undefined && resources[kind]?.memory !== undefined,
                    JSON.stringify(resources[kind] ?? null));
    }

    // Kubernetes leaves a $(NAME) whose variable is not defined earlier in `env` as literal
    // text, so a misspelt name reaches the program unexpanded.
    const defined = new Set();
    const references = [];
    for (const variable of container.env ?? []) {
      for (const [, reference] of (variable.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        references.push({ reference, where: `env ${variable.name}`, known: new Set(defined) });
      }
      defined.add(variable.name);
    }
    for (const text of [...(container.command ?? []), ...(container.args ?? [])]) {
      for (const [, reference] of String(text).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        references.push({ reference, where: "args", known: defined });
      }
    }
    for (const { reference, where, known } of references) {
      checker.check(`${name} defines $(${reference}) before ${where} uses it`, known.has(reference));
    }

    // References to ConfigMaps and Secrets must name rendered objects, which catches a name
    // that kustomize did not rewrite to its generated, hashed form.
    for (const variable of container.env ?? []) {
      const configMapRef = variable.valueFrom?.configMapKeyRef;
      const secretRef = variable.valueFrom?.secretKeyRef;
      if (configMapRef) {
        const target = find("ConfigMap", configMapRef.name);
        checker.check(`${name} env ${variable.name} reads an existing ConfigMap key`,
                      target?.data?.[configMapRef.key] !== undefined,
                      `${configMapRef.name}/${configMapRef.key}`);
      }
      if (secretRef) {
        const target = find("Secret", secretRef.name);
        const data = { ...(target?.data ?? {}), ...(target?.stringData ?? {}) };
        checker.check(`${name} env ${variable.name} reads an existing Secret key`,
                      data[secretRef.key] !== undefined, `${secretRef.name}/${secretRef.key}`);
      }
    }
    for (const source of container.envFrom ?? []) {
      const reference = source.secretRef ?? source.configMapRef;
      const kind = source.secretRef ? "Secret" : "ConfigMap";
      checker.check(`${name} envFrom names an existing ${kind}`,
                    Boolean(find(kind, reference?.name)), reference?.name);
    }
  }
  for (const volume of workload.spec.template.spec.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName) {
      checker.check(`${describe(workload)} volume ${volume.name} names an existing claim`,
                    Boolean(find("PersistentVolumeClaim", claimName)), claimName);
    }
  }
}

// Services select the pods of a workload and reach a port that a container declares.
const selects = (selector, labels) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);
for (const service of findAll("Service")) {
  const selected = workloads.filter((workload) =>
    selects(service.spec.selector, workload.spec.template.metadata?.labels));
  checker.check(`Service ${service.metadata.name} selects a workload`, selected.length > 0);
  const containerPorts = selected.flatMap((workload) =>
    containersOf(workload).flatMap((container) => container.ports ?? []));
  for (const port of service.spec.ports ?? []) {
    const target = port.targetPort ?? port.port;
    checker.check(`Service ${service.metadata.name} port ${port.port} reaches a container port`,
                  containerPorts.some((containerPort) =>
                    containerPort.name === target || containerPort.containerPort === target),
                  `targetPort ${target}`);
  }
}
for (const statefulSet of findAll("StatefulSet")) {
  const service = find("Service", statefulSet.spec.serviceName);
  checker.check(`StatefulSet ${statefulSet.metadata.name} has its headless Service`,
                service?.spec?.clusterIP === "None", statefulSet.spec.serviceName);
}

// The backend.
const backendService = find("Service", kBackendName);
checker.check(`Service ${kBackendName} listens on ${kBackendPort}`,
              Boolean(backendService?.spec?.ports?.some((port) => port.port === kBackendPort)));
const backend = find("Deployment", kBackendName);
checker.check(`Deployment ${kBackendName} exists`, Boolean(backend));
const backendContainer = backend ? containersOf(backend)[0] : undefined;
if (backendContainer) {
  const backendPorts = backendContainer.ports ?? [];
  const probesHealth = (probe) => probe?.httpGet?.path === "/health" &&
    backendPorts.some((port) => port.containerPort === kBackendPort &&
      (probe.httpGet.port === port.name || probe.httpGet.port === kBackendPort));
  checker.check("backend readiness probe is GET /health on 8000",
                probesHealth(backendContainer.readinessProbe));
  checker.check("backend liveness probe is GET /health on 8000",
                probesHealth(backendContainer.livenessProbe));
  checker.check("backend runs `hft serve`", backendContainer.args?.[0] === "serve",
                JSON.stringify(backendContainer.args));
  const environment = new Map((backendContainer.env ?? []).map((variable) => [variable.name, variable]));
  // Both are optional: without them the backend uses its in-process queue and no trade sink.
  if (environment.has("REDIS_URL")) {
    checker.check("backend REDIS_URL points at the redis Service",
                  /^redis:\/\/redis(\.|:)/.test(environment.get("REDIS_URL").value ?? ""));
  }
  if (environment.has("DATABASE_URL")) {
    checker.check("backend DATABASE_URL points at the postgres Service",
                  /@postgres(\.[a-z.-]+)?:5432\//.test(environment.get("DATABASE_URL").value ?? ""));
  }
}

// Redis and PostgreSQL.
const redis = find("StatefulSet", "redis");
const redisArgs = redis ? containersOf(redis)[0].args?.join(" ") ?? "" : "";
checker.check("Redis never evicts keys", /--maxmemory-policy noeviction\b/.test(redisArgs), redisArgs);
checker.check("Redis keeps an append-only file", /--appendonly yes\b/.test(redisArgs), redisArgs);
const postgres = find("StatefulSet", "postgres");
checker.check("PostgreSQL is a StatefulSet", Boolean(postgres));
checker.check("PostgreSQL claims its volume from a template",
              (postgres?.spec?.volumeClaimTemplates ?? []).length > 0);
checker.check("PostgreSQL runs version 15",
              /^postgres:15([.-]|$)/.test(postgres ? containersOf(postgres)[0].image : ""));

// The load-test ConfigMap.
const config = find("ConfigMap", kConfigMapName);
checker.check(`ConfigMap ${kConfigMapName} exists`, Boolean(config));
checker.check("API_URL names the backend Service", kApiUrlPattern.test(config?.data?.API_URL ?? ""),
              config?.data?.API_URL);
checker.check("DURATION_SEC is a positive whole number of seconds",
              /^[1-9][0-9]*$/.test(config?.data?.DURATION_SEC ?? ""), config?.data?.DURATION_SEC);
checker.check("START_AT is empty or a Unix time in seconds",
              /^([0-9]+(\.[0-9]+)?)?$/.test(config?.data?.START_AT ?? "missing"),
              config?.data?.START_AT);

// The load-test Job.
const job = find("Job", kJobName);
checker.check(`Job ${kJobName} exists`, Boolean(job));
if (job) {
  const spec = job.spec;
  const podSpec = spec.template.spec;
  checker.check("Job completion mode is Indexed", spec.completionMode === "Indexed");
  if (expectedClients === null) {
    checker.check("Job runs all its clients at once", spec.parallelism === spec.completions,
                  `parallelism ${spec.parallelism}, completions ${spec.completions}`);
  } else {
    checker.check(`Job completions is ${expectedClients}`, spec.completions === expectedClients,
                  `completions is ${spec.completions}`);
    checker.check(`Job parallelism is ${expectedClients}`, spec.parallelism === expectedClients,
                  `parallelism is ${spec.parallelism}`);
  }
  checker.check("Job restart policy is Never", podSpec.restartPolicy === "Never");
  checker.check("Job sets backoffLimit", Number.isInteger(spec.backoffLimit));
  checker.check("Job sets ttlSecondsAfterFinished", Number.isInteger(spec.ttlSecondsAfterFinished));
  checker.check("Job starts suspended", spec.suspend === true);

  const load = podSpec.containers[0];
  const environment = new Map((load.env ?? []).map((variable) => [variable.name, variable]));
  const clientId = environment.get("CLIENT_ID");
  checker.check("CLIENT_ID is the completion index",
                clientId?.valueFrom?.fieldRef?.fieldPath === kCompletionIndexPath ||
                  clientId?.value === "$(JOB_COMPLETION_INDEX)",
                JSON.stringify(clientId));
  for (const key of ["API_URL", "DURATION_SEC", "START_AT"]) {
    const reference = environment.get(key)?.valueFrom?.configMapKeyRef;
    checker.check(`${key} comes from ${kConfigMapName}`,
                  reference?.name === kConfigMapName && reference?.key === key,
                  JSON.stringify(reference ?? null));
  }
  const args = load.args ?? [];
  checker.check("Job runs `hft load`", args[0] === "load", JSON.stringify(args));
  const startAt = args.indexOf("--start-at");
  checker.check("--start-at is $(START_AT)", startAt >= 0 && args[startAt + 1] === "$(START_AT)",
                JSON.stringify(args));
  checker.check("Job and backend run the same image",
                backendContainer !== undefined && load.image === backendContainer.image,
                `${load.image} and ${backendContainer?.image}`);
}

checker.finish();
