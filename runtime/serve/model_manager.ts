/**
 * The model manager: which models the repository holds, their states
 * (LOADING, READY, UNLOADING, UNAVAILABLE with a reason, as Triton's
 * repository index reports them), and for each ready version its host model,
 * scheduler and statistics. Loads and unloads of one model are serialized;
 * different models proceed independently. A model that fails to load is
 * UNAVAILABLE with its reason while the others serve.
 *
 * A model with `sequence_batching` gets the sequence batcher; an ensemble
 * (`platform: "ensemble"`) loads nothing into the backend: its requests run
 * its steps on the composing models, which are loaded first if they are not
 * loaded or loading already. Those it loaded are its dependents: an unload
 * with `unloadDependents` takes them too, unless they were loaded on their
 * own or another loaded ensemble still needs them (Triton's
 * `unload_dependents`).
 *
 * A load may bring its own model files (the load API's `file:` parameters):
 * they are written to a temporary model directory that replaces the
 * repository's for that load, and removed when the model is unloaded or
 * loaded again, or when its load fails.
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ModelConfig,
  modelConfigFromTritonJson,
  modelConfigToTritonJson,
  ModelInstanceGroup_Kind,
  ModelInstanceGroupSchema,
  ModelVersionPolicySchema,
} from "../model_config/mod.ts";
import { baselinePolicy, type SandboxPolicy } from "../../sandbox/policy/permissions.ts";
import { EnsembleScheduler } from "./ensemble.ts";
import { checkStepModels, ensemblePlan, isEnsemble } from "./ensemble_plan.ts";
import { ErrorCode, ServeError } from "./errors.ts";
import { type ModelSignature, modelSignature } from "./model_signature.ts";
import { join } from "node:path";
import { listModelNames, type ModelSpec, readModelSpec } from "./repository.ts";
import { clientPaths } from "../worker/client_text.ts";
import { type ModelFilesDirectory, removeModelFiles, writeModelFiles } from "./model_files.ts";
import type { LoadRequest, UnloadRequest } from "./repository_control.ts";
import { type BatchExecutor, batchingPolicy, Scheduler } from "./scheduler.ts";
import {
  DEFAULT_MAX_SEQUENCE_IDLE_US,
  sequencePolicy,
  SequenceScheduler,
} from "./sequence_scheduler.ts";
import { ModelStatistics, type ModelStatJson } from "./stats.ts";
import type { RequestScheduler } from "./types.ts";

/** A model version's state, as Triton names it. */
export type ModelState = "LOADING" | "READY" | "UNLOADING" | "UNAVAILABLE";

/** A loaded model version and what serves it. */
export interface ServedVersion {
  /** The version number. */
  readonly version: number;
  /** The model's interface. */
  readonly signature: ModelSignature;
  /** The configuration as the backend holds it. */
  readonly config: ModelConfig;
  /** Queues and batches its requests (or runs an ensemble's steps). */
  readonly scheduler: RequestScheduler;
  /** Its statistics. */
  readonly stats: { toJson(): ModelStatJson };
  /** What was loaded for it (the host model; nothing much for an ensemble). */
  readonly executor: LoadedModel;
}

/** A loaded model version: its instances and configuration. */
export interface LoadedModel {
  /** How many instances run it (0 for an ensemble). */
  readonly instanceCount: number;
  /** The configuration JSON the backend holds (auto-completed, if it did). */
  configJson(): string;
  /** Finalizes the instances and the model. */
  unload(): Promise<void>;
  /**
   * Whether every instance is ready (the backend's
   * TRITONBACKEND_ModelInstanceReady: a live stub, and the model's own
   * isReady()); `true` or the first reason it is not. Omitted: ready.
   */
  ready?(): Promise<true | string>;
}

/** An executor that can be unloaded: a host model, or a fake in tests. */
export interface LoadedExecutor extends LoadedModel, BatchExecutor {}

/** Loads one model version; the seam between the manager and the host. */
export type VersionLoader = (
  spec: ModelSpec,
  version: number,
  configJson: string,
  instanceCount: number,
) => Promise<LoadedExecutor>;

/** One line of the repository index. */
export interface IndexEntry {
  /** The model's name. */
  name: string;
  /** The version, when the model was ever loaded. */
  version?: string;
  /** Its state, when the model was ever loaded. */
  state?: ModelState;
  /** Why it is in that state ("" when READY). */
  reason?: string;
}

/**
 * What the HTTP handler asks of the models, whoever serves them: this
 * module's {@linkcode ModelManager} on the stand-in core, or Triton's own
 * core (runtime/serve/triton_models.ts).
 */
export interface ModelRegistry {
  /** The version that serves requests; throws Triton's error when there is none. */
  servedVersion(name: string, version?: number): ServedVersion;
  /** The READY versions of a model, ascending. */
  readyVersions(name: string): number[];
  /** Whether a model (or one of its versions) is ready. */
  isReady(name: string, version?: number): boolean | Promise<boolean>;
  /** Triton's server readiness. */
  allReady(): boolean | Promise<boolean>;
  /** Every served version, for `/v2/models/stats`. */
  allServed(): ServedVersion[];
  /** The repository index. */
  index(readyOnly: boolean): IndexEntry[];
  /**
   * Loads (or reloads) a model, optionally with a configuration that
   * replaces its own and files that replace its directory.
   */
  load(name: string, request?: Partial<LoadRequest>): Promise<void>;
  /** Unloads a model (and, when asked, the models loaded as its dependents). */
  unload(name: string, request?: Partial<UnloadRequest>): Promise<void>;
}

/** What the startup log says about a model. */
export interface ModelReport {
  /** The model's name. */
  readonly name: string;
  /** Its state. */
  readonly state: ModelState;
  /** Why, when not READY. */
  readonly reason: string;
  /** The versions served. */
  readonly versions: readonly number[];
  /** Instances per version. */
  readonly instances: number;
  /** The sandbox policy its model code runs under (none for an ensemble). */
  readonly sandbox: SandboxPolicy | undefined;
  /** For an ensemble, how many steps it has. */
  readonly ensembleSteps?: number;
}

interface ModelRecord {
  readonly name: string;
  state: ModelState;
  reason: string;
  everLoaded: boolean;
  latestVersion: number;
  spec: ModelSpec | undefined;
  served: Map<number, ServedVersion>;
  /** Loads asked for and not yet finished. */
  pendingLoads: number;
  /**
   * Loaded on its own (at startup or through the load API), not only as an
   * ensemble's composing model; an unload clears it.
   */
  explicit: boolean;
  /** The temporary directory of the uploaded files the served versions run from. */
  filesRoot: string | undefined;
  /** The tail of this model's load/unload chain. */
  busy: Promise<void>;
}

/**
 * Owns the models of one repository.
 *
 * @example
 * ```ts ignore
 * const manager = new ModelManager("models", loader);
 * await manager.loadAll(["add_sub"]);
 * const served = manager.servedVersion("add_sub");
 * ```
 */
export class ModelManager implements ModelRegistry {
  readonly #repository: string;
  readonly #loader: VersionLoader;
  readonly #records = new Map<string, ModelRecord>();
  /** Ensembles whose load is waiting for their composing models (to catch cycles). */
  readonly #ensemblesLoading = new Set<string>();
  readonly #log: (line: string) => void;

  /** Where model files sent with a load are written (default: the system's temporary directory). */
  readonly #uploadDirectory: string | undefined;

  /**
   * @param repository The model repository directory.
   * @param loader Loads one version (the host, or a fake in tests).
   * @param options `uploadDirectory`: where the model files sent with a
   * load are written (default: the system's temporary directory); `log`:
   * the server's log, which gets a failed load's whole text when what
   * clients see of it (the load answer, the repository index) lost paths.
   */
  constructor(
    repository: string,
    loader: VersionLoader,
    options: { uploadDirectory?: string; log?: (line: string) => void } = {},
  ) {
    this.#repository = repository;
    this.#loader = loader;
    this.#uploadDirectory = options.uploadDirectory;
    this.#log = options.log ?? (() => {});
  }

  /**
   * Loads the named models, or every model in the repository when `names`
   * is empty. A model that fails stays UNAVAILABLE with its reason; the
   * others load regardless.
   *
   * @throws {ServeError} If a named model is not in the repository.
   */
  async loadAll(names: readonly string[]): Promise<ModelReport[]> {
    const available = listModelNames(this.#repository);
    const wanted = names.length === 0 ? available : [...names];
    for (const name of wanted) {
      if (!available.includes(name)) {
        throw new ServeError(
          ErrorCode.NOT_FOUND,
          `model '${name}' is not in the model repository '${this.#repository}'`,
        );
      }
    }
    await Promise.all(wanted.map((name) => this.load(name).catch(() => {})));
    return wanted.map((name) => this.report(name));
  }

  /**
   * Loads a model (or reloads it: the new versions take over once ready,
   * then the old ones drain and unload). `override` replaces config.pbtxt
   * (the load API's `config` parameter).
   *
   * @throws {ServeError} `INVALID_ARG` with the reason when it fails to load.
   */
  load(name: string, request: Partial<LoadRequest> = {}): Promise<void> {
    // A load with its own files may bring a model the repository lacks (as in Triton).
    const uploads = (request.files?.length ?? 0) > 0;
    return this.#enqueueLoad(this.#record(name, uploads), request, true);
  }

  #enqueueLoad(
    record: ModelRecord,
    request: Partial<LoadRequest>,
    explicit: boolean,
  ): Promise<void> {
    record.pendingLoads++;
    const run = record.busy.then(() => this.#load(record, request, explicit)).finally(() => {
      record.pendingLoads--;
    });
    record.busy = run.catch(() => {});
    return run;
  }

  async #load(
    record: ModelRecord,
    request: Partial<LoadRequest>,
    explicit: boolean,
  ): Promise<void> {
    const override = request.config;
    const files = request.files ?? [];
    if (explicit) record.explicit = true;
    const previous = record.served;
    // A reload keeps the loaded versions serving until the new ones are ready.
    if (previous.size === 0) record.state = "LOADING";
    record.reason = "";
    record.everLoaded = true;
    let spec: ModelSpec;
    const served = new Map<number, ServedVersion>();
    let made: ModelFilesDirectory | undefined;
    try {
      if (files.length > 0) made = await writeModelFiles(record.name, files, this.#uploadDirectory);
      spec = readModelSpec(this.#repository, record.name, override, made?.directory);
      record.spec = spec;
      record.latestVersion = spec.versions.at(-1) ?? 0;
      normalizeConfig(spec.config);
      // An ensemble loads nothing into the backend: only its composing models.
      const backendVersions = isEnsemble(spec.config) ? [] : spec.versions;
      if (isEnsemble(spec.config)) await this.#serveEnsemble(record.name, spec, served);
      else checkScheduling(spec.config); // Before any stub starts.
      const instanceCount = countInstances(spec.config);
      const configJson = modelConfigToTritonJson(spec.config);
      for (const version of backendVersions) {
        const executor = await this.#loader(spec, version, configJson, instanceCount);
        try {
          served.set(version, serveVersion(record.name, version, executor));
        } catch (error) {
          await executor.unload().catch(() => {});
          throw error;
        }
      }
    } catch (error) {
      for (const version of served.values()) await version.executor.unload().catch(() => {});
      await removeModelFiles(made?.root);
      record.state = previous.size > 0 ? "READY" : "UNAVAILABLE";
      // Clients see the reason with paths relative to the model's directory
      // and no other server path (as the backend's own load errors); the
      // log keeps the whole text.
      const full = messageOf(error);
      const reason = clientPaths(full, made?.directory ?? join(this.#repository, record.name));
      if (reason !== full) this.#log(`model '${record.name}' failed to load: ${full}`);
      record.reason = reason;
      throw new ServeError(
        ErrorCode.INVALID_ARG,
        `load failed for model '${record.name}': ${reason}`,
      );
    }
    record.served = served;
    record.state = "READY";
    record.reason = "";
    const replacedFiles = record.filesRoot;
    record.filesRoot = made?.root;
    try {
      await retire(previous.values(), `model '${record.name}' was reloaded`);
    } finally {
      await removeModelFiles(replacedFiles);
    }
  }

  /**
   * Unloads a model: new requests get UNAVAILABLE, queued and running ones
   * finish, then its instances are finalized (stubs stopped).
   *
   * @throws {ServeError} `NOT_FOUND` for a model the repository does not hold.
   */
  unload(name: string, request: Partial<UnloadRequest> = {}): Promise<void> {
    const record = this.#record(name);
    const run = record.busy.then(async () => {
      record.explicit = false;
      if (record.served.size === 0) return;
      record.state = "UNLOADING";
      const served = record.served;
      record.served = new Map();
      const files = record.filesRoot;
      record.filesRoot = undefined;
      try {
        await retire(served.values(), `model '${name}' is unloading`);
      } finally {
        record.state = "UNAVAILABLE";
        record.reason = "unloaded";
        await removeModelFiles(files);
      }
    });
    record.busy = run.catch(() => {});
    if (request.unloadDependents !== true) return run;
    return run.then(() => this.#unloadDependents(record));
  }

  /**
   * Unloads an ensemble's composing models that were loaded only for it:
   * not loaded on their own, and needed by no other loaded ensemble (and
   * theirs in turn), as Triton's `unload_dependents` does.
   */
  async #unloadDependents(record: ModelRecord): Promise<void> {
    const errors: string[] = [];
    for (const member of composingModels(record.spec?.config)) {
      const dependency = this.#records.get(member);
      if (dependency === undefined || dependency.explicit || dependency.served.size === 0) {
        continue;
      }
      if (this.#neededByAnEnsemble(member)) continue;
      await this.unload(member, { unloadDependents: true })
        .catch((error) => errors.push(messageOf(error)));
    }
    if (errors.length > 0) {
      throw new ServeError(
        ErrorCode.INTERNAL,
        `failed to unload the dependents of '${record.name}': ${errors.join("; ")}`,
      );
    }
  }

  /** Whether a loaded (or loading) ensemble has `name` as a step. */
  #neededByAnEnsemble(name: string): boolean {
    for (const record of this.#records.values()) {
      if (record.served.size === 0 && record.pendingLoads === 0) continue;
      if (composingModels(record.spec?.config).has(name)) return true;
    }
    return false;
  }

  /** Unloads every model (for shutdown); never throws. Returns the errors met. */
  async unloadAll(): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(
      [...this.#records.keys()].map((name) =>
        this.unload(name).catch((error) => errors.push(messageOf(error)))
      ),
    );
    return errors;
  }

  /**
   * The version serving requests for `name`: `version`, or the latest READY
   * one.
   *
   * @throws {ServeError} NOT_FOUND for an unknown model or version,
   * UNAVAILABLE for one that is not ready.
   */
  servedVersion(name: string, version?: number): ServedVersion {
    const record = this.#records.get(name);
    if (record === undefined && !this.#inRepository(name)) {
      throw new ServeError(
        ErrorCode.NOT_FOUND,
        `Request for unknown model: '${name}' is not found`,
      );
    }
    const served = record?.served ?? new Map<number, ServedVersion>();
    if (version === undefined) {
      const latest = [...served.keys()].sort((a, b) => a - b).at(-1);
      if (latest !== undefined && record?.state === "READY") return served.get(latest)!;
      throw new ServeError(
        ErrorCode.UNAVAILABLE,
        `Request for unknown model: '${name}' has no available versions` +
          (record?.reason ? ` (${record.state}: ${record.reason})` : ""),
      );
    }
    const found = served.get(version);
    if (found !== undefined && record?.state === "READY") return found;
    if (found === undefined && !(record?.spec?.versions.includes(version) ?? false)) {
      throw new ServeError(
        ErrorCode.NOT_FOUND,
        `Request for unknown model: '${name}' version ${version} is not found`,
      );
    }
    throw new ServeError(
      ErrorCode.UNAVAILABLE,
      `Request for unknown model: '${name}' version ${version} is not at ready state`,
    );
  }

  /** The READY versions of a model, ascending (empty when it is not ready). */
  readyVersions(name: string): number[] {
    const record = this.#records.get(name);
    if (record === undefined || record.state !== "READY") return [];
    return [...record.served.keys()].sort((a, b) => a - b);
  }

  /**
   * Whether a model (or one of its versions) is ready: served, and its
   * instances ready as the backend says (as Triton asks
   * TRITONBACKEND_ModelInstanceReady).
   */
  async isReady(name: string, version?: number): Promise<boolean> {
    let served: ServedVersion;
    try {
      served = this.servedVersion(name, version);
    } catch {
      return false;
    }
    return (await served.executor.ready?.() ?? true) === true;
  }

  /** Every model this manager has seen is READY, and its instances are (Triton's server readiness). */
  async allReady(): Promise<boolean> {
    for (const record of this.#records.values()) {
      if (record.everLoaded && record.state !== "READY" && record.reason !== "unloaded") {
        return false;
      }
    }
    for (const served of this.allServed()) {
      if ((await served.executor.ready?.() ?? true) !== true) return false;
    }
    return true;
  }

  /** Every served version's statistics, for `/v2/models/stats`. */
  allServed(): ServedVersion[] {
    return [...this.#records.values()].flatMap((record) => [...record.served.values()]);
  }

  /**
   * The repository index: every model in the repository; those ever loaded
   * with version, state and reason (Triton lists never-loaded models by name
   * only).
   */
  index(readyOnly: boolean): IndexEntry[] {
    const names = new Set([...listModelNamesSafe(this.#repository), ...this.#records.keys()]);
    const entries: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const record = this.#records.get(name);
      if (record === undefined || !record.everLoaded) {
        if (!readyOnly) entries.push({ name });
        continue;
      }
      const versions = record.served.size > 0
        ? [...record.served.keys()].sort((a, b) => a - b)
        : [record.latestVersion];
      for (const version of versions) {
        if (readyOnly && record.state !== "READY") continue;
        entries.push({
          name,
          version: version > 0 ? String(version) : undefined,
          state: record.state,
          reason: record.reason,
        });
      }
    }
    return entries;
  }

  /** The startup-log summary of one model. */
  report(name: string): ModelReport {
    const record = this.#record(name);
    const versions = [...record.served.keys()].sort((a, b) => a - b);
    const first = versions.length > 0 ? record.served.get(versions[0]) : undefined;
    const base = { name, state: record.state, reason: record.reason, versions };
    const config = record.spec?.config;
    if (config !== undefined && isEnsemble(config)) {
      const steps = config.schedulingChoice.case === "ensembleScheduling"
        ? config.schedulingChoice.value.step.length
        : 0;
      return { ...base, instances: 0, sandbox: undefined, ensembleSteps: steps };
    }
    return {
      ...base,
      instances: first?.executor.instanceCount ?? 0,
      sandbox: record.spec !== undefined ? baselinePolicy(record.spec.directory) : undefined,
    };
  }

  #record(name: string, create = false): ModelRecord {
    let record = this.#records.get(name);
    if (record === undefined) {
      if (!create && !this.#inRepository(name)) {
        // The client sees no server path.
        throw new ServeError(
          ErrorCode.NOT_FOUND,
          `failed to load '${name}', failed to poll from model repository: ` +
            `no model '${name}' in the model repository`,
        );
      }
      record = {
        name,
        state: "UNAVAILABLE",
        reason: "",
        everLoaded: false,
        latestVersion: 0,
        spec: undefined,
        served: new Map(),
        pendingLoads: 0,
        explicit: false,
        filesRoot: undefined,
        busy: Promise.resolve(),
      };
      this.#records.set(name, record);
    }
    return record;
  }

  /** Loads (or waits for) an ensemble's composing models, then serves its versions. */
  async #serveEnsemble(
    name: string,
    spec: ModelSpec,
    served: Map<number, ServedVersion>,
  ): Promise<void> {
    const plan = ensemblePlan(spec.config);
    if (this.#ensemblesLoading.has(name)) {
      throw new Error(`ensemble '${name}' is part of a cycle of ensembles`);
    }
    this.#ensemblesLoading.add(name);
    try {
      for (const model of new Set(plan.steps.map((step) => step.modelName))) {
        if (model === name) throw new Error(`ensemble '${name}' has itself as a step`);
        if (!this.#inRepository(model)) {
          throw new Error(
            `ensemble '${name}' needs model '${model}', which is not in the model repository`,
          );
        }
        const record = this.#record(model);
        if (this.#ensemblesLoading.has(model)) {
          throw new Error(`ensemble '${name}' is part of a cycle of ensembles (via '${model}')`);
        }
        // Load it unless it is loaded or on its way (a concurrent loadAll);
        // a model loaded here is the ensemble's dependent.
        if (record.pendingLoads > 0) await record.busy;
        else if (record.served.size === 0) {
          await this.#enqueueLoad(record, {}, false).catch(() => {});
        }
      }
    } finally {
      this.#ensemblesLoading.delete(name);
    }
    const signature = modelSignature(spec.config);
    checkStepModels(plan, signature, (step) => {
      try {
        return this.servedVersion(step.modelName, step.modelVersion).signature;
      } catch (error) {
        throw new Error(
          `ensemble '${name}' step ${step.number} needs model '${step.modelName}'` +
            `${step.modelVersion === undefined ? "" : ` version ${step.modelVersion}`}: ` +
            messageOf(error),
        );
      }
    });
    const configJson = modelConfigToTritonJson(spec.config);
    for (const version of spec.versions) {
      const stats = new ModelStatistics(name, version);
      const scheduler = new EnsembleScheduler(plan, signature, (model, stepVersion) => {
        const target = this.servedVersion(model, stepVersion);
        return {
          signature: target.signature,
          version: target.version,
          scheduler: target.scheduler,
        };
      }, stats);
      served.set(version, {
        version,
        signature,
        config: spec.config,
        scheduler,
        stats,
        executor: {
          instanceCount: 0,
          configJson: () => configJson,
          unload: () => Promise.resolve(),
        },
      });
    }
  }

  #inRepository(name: string): boolean {
    return listModelNamesSafe(this.#repository).includes(name);
  }
}

/** The models an ensemble's steps call (none for a model that is not an ensemble). */
function composingModels(config: ModelConfig | undefined): Set<string> {
  if (config === undefined || !isEnsemble(config)) return new Set();
  try {
    return new Set(ensemblePlan(config).steps.map((step) => step.modelName));
  } catch {
    return new Set();
  }
}

function serveVersion(name: string, version: number, executor: LoadedExecutor): ServedVersion {
  const config = modelConfigFromTritonJson(executor.configJson());
  const signature = modelSignature(config);
  if (signature.name !== name) {
    throw new Error(`the backend renamed model '${name}' to '${signature.name}'`);
  }
  const stats = new ModelStatistics(name, version);
  const scheduler = config.schedulingChoice.case === "sequenceBatching"
    ? new SequenceScheduler(name, executor, sequencePolicy(config), stats)
    : new Scheduler(executor, batchingPolicy(config, signature), stats);
  return { version, signature, config, scheduler, stats, executor };
}

/**
 * Checks the scheduling settings (priority levels, sequence control inputs)
 * the way the schedulers will read them.
 *
 * @throws {Error} Naming the problem.
 */
function checkScheduling(config: ModelConfig): void {
  if (config.schedulingChoice.case === "sequenceBatching") sequencePolicy(config);
  else batchingPolicy(config, modelSignature(config));
}

/** Closes the versions' schedulers (draining them), then unloads their models. */
async function retire(versions: Iterable<ServedVersion>, reason: string): Promise<void> {
  const errors: string[] = [];
  await Promise.all(
    [...versions].map(async (served) => {
      await served.scheduler.close(reason);
      await served.executor.unload().catch((error) => errors.push(messageOf(error)));
    }),
  );
  if (errors.length > 0) throw new Error(errors.join("; "));
}

/**
 * Fills in what Triton fills in before a backend sees a configuration:
 * the default version policy (latest 1), one CPU instance when no instance
 * group is given, and group names, counts
 * and kinds (CPU: this server has no GPU); for sequence batching the default
 * idle time (1 s) and, for `oldest`, `max_batch_size` as preferred batch size.
 */
export function normalizeConfig(config: ModelConfig): void {
  config.versionPolicy ??= create(ModelVersionPolicySchema, {
    policyChoice: { case: "latest", value: { numVersions: 1 } },
  });
  if (config.schedulingChoice.case === "sequenceBatching") {
    const sequencing = config.schedulingChoice.value;
    if (sequencing.maxSequenceIdleMicroseconds === 0n) {
      sequencing.maxSequenceIdleMicroseconds = BigInt(DEFAULT_MAX_SEQUENCE_IDLE_US);
    }
    const strategy = sequencing.strategyChoice;
    if (
      strategy.case === "oldest" && strategy.value.preferredBatchSize.length === 0 &&
      config.maxBatchSize > 0
    ) {
      strategy.value.preferredBatchSize = [config.maxBatchSize];
    }
  }
  // Ensembles have no instances of their own (Triton leaves instance_group unset).
  if (isEnsemble(config)) return;
  if (config.instanceGroup.length === 0) {
    config.instanceGroup.push(
      create(ModelInstanceGroupSchema, { kind: ModelInstanceGroup_Kind.CPU, count: 1 }),
    );
  }
  config.instanceGroup.forEach((group, index) => {
    if (group.name === "") group.name = `${config.name}_${index}`;
    if (group.count < 1) group.count = 1;
    if (group.kind === ModelInstanceGroup_Kind.GPU) {
      throw new Error(`instance group '${group.name}' asks for KIND_GPU, and there is no GPU`);
    }
    if (group.kind === ModelInstanceGroup_Kind.AUTO) group.kind = ModelInstanceGroup_Kind.CPU;
  });
}

/** Instances the config asks for: the sum of its groups' counts, at least 1. */
export function countInstances(config: ModelConfig): number {
  const total = config.instanceGroup.reduce((sum, group) => sum + Math.max(1, group.count), 0);
  return Math.max(1, total);
}

function listModelNamesSafe(repository: string): string[] {
  try {
    return listModelNames(repository);
  } catch {
    return [];
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
