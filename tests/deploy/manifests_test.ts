/**
 * The Kubernetes and KServe manifests (deploy/), parsed as YAML and checked
 * where they must agree with the image, the backend and the example
 * repository they serve:
 *
 * - the image is the one the README builds, tagged with the Dockerfile's
 *   Triton version; the Deployment and the ServingRuntime use the same;
 * - tritonserver's flags: the repository is the mounted volume, the HTTP
 *   port is the one the probes and the ports name, the metrics port the one
 *   the scrape annotations name;
 * - readiness and liveness probe `/v2/health/ready` and `/v2/health/live`;
 * - `/dev/shm` is a memory-backed volume;
 * - every `--backend-config=deno,...` is accepted by the backend itself,
 *   with the policy file deploy/deno_policy.json where the ConfigMap mounts
 *   it, and the example models that declare `deno.*` parameters load under
 *   that policy;
 * - memory requests and limits cover the stubs of the example repository
 *   (docs/operating.md has the measurements);
 * - the InferenceService names the ServingRuntime and one of its formats.
 *
 * @module
 */

import { parseAllDocuments } from "npm:yaml@2.9.1";
import { z } from "npm:zod@3.25.76";
import { assert, assertEquals, assertThrows } from "../harness/assert.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { Host, HostError } from "../harness/host.ts";
import { parseModelConfigText } from "../../runtime/model_config/mod.ts";
import { parseDockerfile } from "./dockerfile.ts";

const MIB = 1024 * 1024;
/**
 * Sizing inputs, measured on this project's 2-vCPU VM (tests/bench/footprint.ts, Triton's core
 * 73aad7c, the example repository): a stub used 70-81 MiB RSS after traffic (README: 77-78 at
 * ready; 87-89 after a small benchmark in an earlier run), a cold type check (one per loading
 * instance) peaked at 290 MiB. Triton itself is an allowance: the in-process core measured
 * 72-75 MiB RSS, tritonserver's HTTP and gRPC servers were not measured here.
 */
const STUB_MIB = 90;
const TYPE_CHECK_MIB = 300;
const TRITON_MIB = 256;
/** Triton's default --model-load-thread-count: models loading (type-checking) at once. */
const LOAD_THREADS = 4;
const POLICY_CONFIG_MAP = "triton-deno-policy";
const POLICY_KEY = "deno_policy.json";

const Probe = z.object({
  httpGet: z.object({ path: z.string(), port: z.union([z.number(), z.string()]) }),
}).passthrough();
const Quantities = z.object({ cpu: z.string(), memory: z.string() });
const Container = z.object({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).min(1),
  ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number() })).min(1),
  startupProbe: Probe.optional(),
  livenessProbe: Probe,
  readinessProbe: Probe,
  resources: z.object({ requests: Quantities, limits: Quantities }),
  volumeMounts: z.array(
    z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() }),
  ),
}).passthrough();
const Volume = z.object({
  name: z.string(),
  emptyDir: z.object({ medium: z.string().optional(), sizeLimit: z.string().optional() })
    .optional(),
  configMap: z.object({ name: z.string() }).optional(),
  persistentVolumeClaim: z.object({ claimName: z.string(), readOnly: z.boolean().optional() })
    .optional(),
});
const Metadata = z.object({
  name: z.string(),
  labels: z.record(z.string()).optional(),
  annotations: z.record(z.string()).optional(),
});
const Deployment = z.object({
  kind: z.literal("Deployment"),
  metadata: Metadata,
  spec: z.object({
    selector: z.object({ matchLabels: z.record(z.string()) }),
    template: z.object({
      metadata: Metadata.omit({ name: true }),
      spec: z.object({ containers: z.array(Container).length(1), volumes: z.array(Volume) })
        .passthrough(),
    }),
  }).passthrough(),
});
const Service = z.object({
  kind: z.literal("Service"),
  metadata: Metadata,
  spec: z.object({
    selector: z.record(z.string()),
    ports: z.array(z.object({ name: z.string(), port: z.number(), targetPort: z.string() })),
  }),
});
const Claim = z.object({ kind: z.literal("PersistentVolumeClaim"), metadata: Metadata });
const ServingRuntime = z.object({
  apiVersion: z.literal("serving.kserve.io/v1alpha1"),
  kind: z.literal("ServingRuntime"),
  metadata: Metadata,
  spec: z.object({
    annotations: z.record(z.string()),
    supportedModelFormats: z.array(z.object({ name: z.string(), version: z.string() })).min(1),
    protocolVersions: z.array(z.string()),
    containers: z.array(Container).length(1),
    volumes: z.array(Volume),
  }),
});
const InferenceService = z.object({
  apiVersion: z.literal("serving.kserve.io/v1beta1"),
  kind: z.literal("InferenceService"),
  metadata: Metadata,
  spec: z.object({
    predictor: z.object({
      model: z.object({
        modelFormat: z.object({ name: z.string(), version: z.string() }),
        runtime: z.string(),
        storageUri: z.string().min(1),
      }),
    }).passthrough(),
  }),
});

type ContainerSpec = z.infer<typeof Container>;
type VolumeSpec = z.infer<typeof Volume>;

/** Every document of a manifest file. */
function documents(path: string): unknown[] {
  const parsed = parseAllDocuments(Deno.readTextFileSync(`${REPOSITORY_ROOT}/${path}`));
  if (!Array.isArray(parsed)) throw new Error(`${path}: not a YAML stream`);
  return parsed.map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0].message}`);
    return document.toJS();
  });
}

function only<T extends z.ZodTypeAny>(path: string, kind: string, schema: T): z.infer<T> {
  const found = documents(path).filter((document) =>
    (document as { kind?: unknown })?.kind === kind
  );
  assertEquals(found.length, 1, `${path}: one ${kind}`);
  const parsed = schema.safeParse(found[0]);
  if (!parsed.success) {
    throw new Error(`${path}: ${kind}: ${JSON.stringify(parsed.error.issues.slice(0, 3))}`);
  }
  return parsed.data;
}

/** Bytes of a Kubernetes memory quantity (Ki, Mi, Gi). */
function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  assert(match !== null, `memory quantity ${quantity}: expected <n>Ki, <n>Mi or <n>Gi`);
  return Number(match[1]) * { Ki: 1024, Mi: MIB, Gi: 1024 * MIB }[match[2] as "Ki"];
}

/** Cores of a Kubernetes CPU quantity. */
function cores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/** tritonserver's `--flag=value` arguments; `--backend-config` values in order. */
function flags(
  container: ContainerSpec,
): { values: Map<string, string>; deno: [string, string][] } {
  assertEquals(container.args[0], "tritonserver");
  const values = new Map<string, string>();
  const deno: [string, string][] = [];
  for (const arg of container.args.slice(1)) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    assert(match !== null, `argument ${arg}: expected --flag=value`);
    if (match[1] === "backend-config") {
      const setting = /^deno,([a-z-]+)=(.+)$/.exec(match[2]);
      assert(setting !== null, `${arg}: expected --backend-config=deno,<key>=<value>`);
      deno.push([setting[1], setting[2]]);
    } else {
      values.set(match[1], match[2]);
    }
  }
  return { values, deno };
}

function dockerfileVersion(): string {
  const dockerfile = parseDockerfile(Deno.readTextFileSync(`${REPOSITORY_ROOT}/Dockerfile`));
  return dockerfile.globalArgs.get("TRITON_VERSION")!;
}

/** Instances the example repository starts: Triton's rule (a group without a count has 1). */
function exampleInstances(): number {
  let total = 0;
  for (const entry of Deno.readDirSync(`${REPOSITORY_ROOT}/models`)) {
    const file = `${REPOSITORY_ROOT}/models/${entry.name}/config.pbtxt`;
    const config = parseModelConfigText(Deno.readTextFileSync(file), file);
    const groups = config.instanceGroup.length === 0 ? [{ count: 0 }] : config.instanceGroup;
    for (const group of groups) total += group.count < 1 ? 1 : group.count;
  }
  return total;
}

function volumeAt(
  container: ContainerSpec,
  volumes: VolumeSpec[],
  mountPath: string,
): { volume: VolumeSpec; readOnly: boolean } {
  const mount = container.volumeMounts.find((candidate) => candidate.mountPath === mountPath);
  assert(mount !== undefined, `nothing is mounted at ${mountPath}`);
  const volume = volumes.find((candidate) => candidate.name === mount.name);
  assert(volume !== undefined, `no volume named ${mount.name}`);
  return { volume, readOnly: mount.readOnly === true };
}

function portNumber(container: ContainerSpec, port: number | string): number {
  if (typeof port === "number") return port;
  const named = container.ports.find((candidate) => candidate.name === port);
  assert(named !== undefined, `no container port named ${port}`);
  return named.containerPort;
}

/** What both the Deployment's and the ServingRuntime's Triton container must satisfy. */
function checkTritonContainer(
  container: ContainerSpec,
  volumes: VolumeSpec[],
  scrapePort: string | undefined,
): { repository: string; deno: [string, string][]; httpPort: number } {
  assert(
    new RegExp(`(^|/)triton-deno:${dockerfileVersion().replace(".", "\\.")}$`).test(
      container.image,
    ),
    `image ${container.image} is not the Dockerfile's triton-deno:${dockerfileVersion()}`,
  );
  const { values, deno } = flags(container);
  const repository = values.get("model-repository");
  assert(repository !== undefined, "no --model-repository");
  const httpPort = Number(values.get("http-port") ?? "8000");
  assert(container.ports.some((port) => port.containerPort === httpPort), "HTTP port not exposed");
  assertEquals(scrapePort, values.get("metrics-port") ?? "8002", "scrape port vs --metrics-port");

  const probes = [
    [container.readinessProbe, "/v2/health/ready"],
    [container.livenessProbe, "/v2/health/live"],
    ...(container.startupProbe ? [[container.startupProbe, "/v2/health/live"] as const] : []),
  ] as const;
  for (const [probe, path] of probes) {
    assertEquals(probe.httpGet.path, path);
    assertEquals(portNumber(container, probe.httpGet.port), httpPort, `${path} probe's port`);
  }

  const shm = volumeAt(container, volumes, "/dev/shm").volume;
  assertEquals(shm.emptyDir?.medium, "Memory", "/dev/shm must be a memory-backed emptyDir");
  const shmBytes = bytes(shm.emptyDir?.sizeLimit ?? "0Mi");
  assert(shmBytes >= 256 * MIB, `/dev/shm of ${shm.emptyDir?.sizeLimit}: too small for tensors`);

  const policy = deno.find(([key]) => key === "policy")?.[1];
  assert(policy !== undefined, "no --backend-config=deno,policy=...");
  const policyDir = policy.slice(0, policy.lastIndexOf("/"));
  const mounted = volumeAt(container, volumes, policyDir);
  assertEquals(mounted.volume.configMap?.name, POLICY_CONFIG_MAP);
  assert(mounted.readOnly, "the policy is mounted read-only");
  assertEquals(policy.slice(policyDir.length + 1), POLICY_KEY);

  const instances = exampleInstances();
  const requests = bytes(container.resources.requests.memory);
  const limits = bytes(container.resources.limits.memory);
  const steady = (TRITON_MIB + instances * STUB_MIB) * MIB;
  assert(
    requests >= steady,
    `memory request ${container.resources.requests.memory} < ${steady / MIB} MiB for ` +
      `${instances} stubs of the example repository`,
  );
  const peak = requests + LOAD_THREADS * TYPE_CHECK_MIB * MIB + shmBytes;
  assert(
    limits >= peak,
    `memory limit ${container.resources.limits.memory} < ${peak / MIB} MiB (request, ` +
      `${LOAD_THREADS} type checks while loading, /dev/shm)`,
  );
  assert(cores(container.resources.requests.cpu) >= 1, "at least one core");
  assert(
    cores(container.resources.limits.cpu) >= cores(container.resources.requests.cpu),
    "cpu limit below request",
  );
  return { repository, deno, httpPort };
}

const K8S = "deploy/kubernetes/triton-deno.yaml";
const SERVING_RUNTIME = "deploy/kserve/serving-runtime.yaml";
const INFERENCE_SERVICE = "deploy/kserve/inference-service.yaml";

Deno.test("manifests: the Deployment serves the mounted repository with probes, /dev/shm and sizing", () => {
  const deployment = only(K8S, "Deployment", Deployment);
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const { repository } = checkTritonContainer(
    container,
    pod.spec.volumes,
    pod.metadata.annotations?.["prometheus.io/port"],
  );
  const models = volumeAt(container, pod.spec.volumes, repository);
  assert(models.readOnly, "the model repository is mounted read-only");
  const claim = only(K8S, "PersistentVolumeClaim", Claim);
  assertEquals(models.volume.persistentVolumeClaim?.claimName, claim.metadata.name);
  for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) {
    assertEquals(pod.metadata.labels?.[key], value, `selector ${key}`);
  }
  const service = only(K8S, "Service", Service);
  for (const [key, value] of Object.entries(service.spec.selector)) {
    assertEquals(pod.metadata.labels?.[key], value, `service selector ${key}`);
  }
  for (const port of service.spec.ports) {
    assertEquals(portNumber(container, port.targetPort), port.port, `service port ${port.name}`);
  }
});

Deno.test("manifests: the ServingRuntime runs the same image on KServe's /mnt/models; the InferenceService uses it", () => {
  const runtime = only(SERVING_RUNTIME, "ServingRuntime", ServingRuntime);
  const container = runtime.spec.containers[0];
  assertEquals(container.name, "kserve-container");
  const { repository, httpPort } = checkTritonContainer(
    container,
    runtime.spec.volumes,
    runtime.spec.annotations["prometheus.kserve.io/port"],
  );
  assertEquals(repository, "/mnt/models", "KServe puts the storageUri at /mnt/models");
  assertEquals(container.ports.map((port) => port.containerPort), [httpPort]);
  assert(runtime.spec.protocolVersions.includes("v2"));
  const deployment = only(K8S, "Deployment", Deployment);
  assertEquals(container.image, deployment.spec.template.spec.containers[0].image);

  const service = only(INFERENCE_SERVICE, "InferenceService", InferenceService);
  const model = service.spec.predictor.model;
  assertEquals(model.runtime, runtime.metadata.name);
  assert(
    runtime.spec.supportedModelFormats.some((format) =>
      format.name === model.modelFormat.name && format.version === model.modelFormat.version
    ),
    `format ${JSON.stringify(model.modelFormat)} is not the runtime's`,
  );
  const claim = only(K8S, "PersistentVolumeClaim", Claim);
  assertEquals(model.storageUri.split("/")[2], claim.metadata.name, "the same models volume");
});

Deno.test("manifests: the backend accepts their --backend-config and policy; examples load under it", async () => {
  const runtime = only(SERVING_RUNTIME, "ServingRuntime", ServingRuntime);
  const deployment = only(K8S, "Deployment", Deployment);
  const settings = [runtime.spec.containers[0], deployment.spec.template.spec.containers[0]]
    .map((container) => flags(container).deno);
  assertEquals(settings[0], settings[1], "the Deployment and the ServingRuntime configure alike");
  const work = await Deno.makeTempDir({ prefix: "tdn_manifests_" });
  try {
    Deno.copyFileSync(`${REPOSITORY_ROOT}/deploy/${POLICY_KEY}`, `${work}/${POLICY_KEY}`);
    const options = Object.fromEntries(
      settings[0].map(([key, value]) => [key, key === "policy" ? `${work}/${POLICY_KEY}` : value]),
    );
    const host = Host.open({ options });
    try {
      // The policy judges a model's deno.* parameters: the examples that declare some, and
      // add_sub for those that declare none.
      const judged = [...Deno.readDirSync(`${REPOSITORY_ROOT}/models`)].map((entry) => entry.name)
        .filter((name) =>
          name === "add_sub" ||
          /key:\s*"deno\./.test(
            Deno.readTextFileSync(`${REPOSITORY_ROOT}/models/${name}/config.pbtxt`),
          )
        );
      assert(judged.length >= 2, `examples judged by the policy: ${judged}`);
      for (const name of judged) {
        const path = `${REPOSITORY_ROOT}/models/${name}`;
        const load = () => host.loadModel(path, { instanceCount: 1, autoComplete: true });
        // The policy lets a team's models call only the team's own: the
        // examples that call others are refused, naming the ceiling.
        if (/key:\s*"deno\.allow_models"/.test(Deno.readTextFileSync(`${path}/config.pbtxt`))) {
          assertThrows(load, HostError, "which the operator's ceiling does not allow");
        } else {
          load().unload();
        }
      }
    } finally {
      host.close();
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
