/**
 * Decodes Triton's model configuration JSON into a `ModelConfig` without
 * loading protobuf-es: the Worker decodes every model's configuration, and
 * protobuf-es with the generated schema costs a stub about 30 ms of start
 * and 10 MiB of memory. The objects are the ones protobuf-es's
 * `fromJson(ModelConfigSchema, json, { ignoreUnknownFields: true })` makes
 * (same `$typeName`s, zero values, `bigint` 64-bit integers, oneof
 * `{ case, value }` groups, map keys); the schema comes from a table
 * generated from the same descriptor (./json_table.ts), and
 * from_json_test.ts checks both decoders against each other.
 *
 * Accepted as protobuf-es accepts: proto (snake_case) and JSON (camelCase)
 * field names, 64-bit integers as numbers or strings, enums by name or
 * number, `"NaN"`/`"Infinity"` for floats, null for "unset"; unknown fields
 * and unknown enum names are ignored.
 *
 * @example
 * ```ts
 * import { modelConfigFromJson } from "./from_json.ts";
 *
 * const config = modelConfigFromJson('{"name":"m","input":[{"name":"X","dims":[4]}]}');
 * console.log(config.input[0].dims); // [4n]
 * ```
 *
 * @module
 */

import type { ModelConfig } from "./model_config_pb.ts";
import { MODEL_CONFIG_JSON_TABLE } from "./json_table.ts";
import type { EnumTable, JsonTable, MemberTable } from "./json_table_types.ts";

/** `ScalarType` numbers (protobuf-es). */
const S = {
  DOUBLE: 1,
  FLOAT: 2,
  INT64: 3,
  UINT64: 4,
  INT32: 5,
  FIXED64: 6,
  FIXED32: 7,
  BOOL: 8,
  STRING: 9,
  BYTES: 12,
  UINT32: 13,
  SFIXED32: 15,
  SFIXED64: 16,
  SINT32: 17,
  SINT64: 18,
} as const;

const SIGNED_64 = new Set<number>([S.INT64, S.SFIXED64, S.SINT64]);
const UNSIGNED_64 = new Set<number>([S.UINT64, S.FIXED64]);
const SIGNED_32 = new Set<number>([S.INT32, S.SFIXED32, S.SINT32]);
const UNSIGNED_32 = new Set<number>([S.UINT32, S.FIXED32]);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Skips an unknown enum name (ignored like an unknown field). */
const IGNORED = Symbol("ignored unknown enum value");

type Message = Record<string, unknown>;

/** A decoder for the messages of one schema table. */
export class JsonMessageDecoder {
  readonly #table: JsonTable;
  readonly #byKey = new Map<string, Map<string, MemberTable>>();
  readonly #enumNumbers = new Map<string, Map<string, number>>();

  /** @param table The schema (./json_table.ts). */
  constructor(table: JsonTable) {
    this.#table = table;
  }

  /**
   * Decodes `json` as a message of `typeName`.
   *
   * @throws {Error} `cannot decode <field> from JSON: <reason>` for a value
   * of the wrong type or out of range.
   */
  decode(typeName: string, json: unknown): Message {
    const message = this.#create(typeName);
    this.#read(typeName, message, json);
    return message;
  }

  /** A message with every field at its zero value (message fields unset). */
  #create(typeName: string): Message {
    const message: Message = { $typeName: typeName };
    for (const member of this.#message(typeName).members) {
      if (member.oneof !== undefined) {
        message[member.oneof] = { case: undefined };
        continue;
      }
      if (member.inOneof !== undefined) continue; // set through its group
      switch (member.kind) {
        case "list":
          message[member.local!] = [];
          break;
        case "map":
          message[member.local!] = {};
          break;
        case "scalar":
          message[member.local!] = zeroOf(member.scalar!);
          break;
        case "enum":
          message[member.local!] = this.#enum(member.enum!).values[0][2];
          break;
      }
    }
    return message;
  }

  #message(typeName: string) {
    const table = this.#table.messages[typeName];
    if (table === undefined) throw new Error(`unknown message type ${typeName}`);
    return table;
  }

  #enum(typeName: string): EnumTable {
    const table = this.#table.enums[typeName];
    if (table === undefined) throw new Error(`unknown enum type ${typeName}`);
    return table;
  }

  /** Fields by proto name and by JSON name. */
  #fields(typeName: string): Map<string, MemberTable> {
    let fields = this.#byKey.get(typeName);
    if (fields === undefined) {
      fields = new Map();
      for (const member of this.#message(typeName).members) {
        if (member.oneof !== undefined) continue;
        fields.set(member.name!, member).set(member.json!, member);
      }
      this.#byKey.set(typeName, fields);
    }
    return fields;
  }

  #read(typeName: string, message: Message, json: unknown): void {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new Error(`cannot decode message ${typeName} from JSON: ${formatValue(json)}`);
    }
    const fields = this.#fields(typeName);
    const seen = new Set<MemberTable>();
    const oneofs = new Map<string, MemberTable>();
    for (const [key, value] of Object.entries(json)) {
      const field = fields.get(key);
      if (field === undefined) continue; // unknown fields are ignored
      const name = `${typeName}.${field.name}`;
      if (seen.has(field)) throw fieldError(name, "set multiple times");
      seen.add(field);
      if (field.inOneof !== undefined) {
        if (field.kind === "scalar" && value === null) continue;
        const other = oneofs.get(field.inOneof);
        if (other !== undefined) {
          throw fieldError(name, `oneof set multiple times by ${other.name} and ${field.name}`);
        }
        oneofs.set(field.inOneof, field);
      }
      this.#readField(name, field, message, value);
    }
  }

  #readField(name: string, field: MemberTable, message: Message, json: unknown): void {
    const local = field.local!;
    const oneof = field.inOneof;
    switch (field.kind) {
      case "scalar": {
        if (oneof !== undefined) {
          message[oneof] = { case: local, value: scalarFromJson(name, field.scalar!, json) };
        } else {
          message[local] = json === null ? zeroOf(field.scalar!) : scalarFromJson(
            name,
            field.scalar!,
            json,
          );
        }
        return;
      }
      case "enum": {
        if (json === null) {
          if (oneof === undefined) message[local] = this.#enum(field.enum!).values[0][2];
          else if ((message[oneof] as { case?: string }).case === local) {
            message[oneof] = { case: undefined };
          }
          return;
        }
        const value = this.#enumFromJson(name, field.enum!, json);
        if (value === IGNORED) return;
        if (oneof === undefined) message[local] = value;
        else message[oneof] = { case: local, value };
        return;
      }
      case "message": {
        const group = oneof === undefined
          ? undefined
          : message[oneof] as { case?: string; value?: Message };
        if (json === null) {
          if (group === undefined) delete message[local];
          else if (group.case === local) message[oneof!] = { case: undefined };
          return;
        }
        const existing = group === undefined
          ? message[local] as Message | undefined
          : group.case === local
          ? group.value
          : undefined;
        const child = existing ?? this.#create(field.message!);
        this.#read(field.message!, child, json);
        if (oneof === undefined) message[local] = child;
        else message[oneof] = { case: local, value: child };
        return;
      }
      case "list": {
        if (json === null) return;
        if (!Array.isArray(json)) {
          throw fieldError(name, `expected Array, got ${formatValue(json)}`);
        }
        const items = message[local] as unknown[];
        for (const item of json) {
          if (item === null) throw fieldError(name, "list item must not be null");
          const value = this.#itemFromJson(name, field, item);
          if (value !== IGNORED) items.push(value);
        }
        return;
      }
      case "map": {
        if (json === null) return;
        if (typeof json !== "object" || Array.isArray(json)) {
          throw fieldError(name, `expected object, got ${formatValue(json)}`);
        }
        const record = message[local] as Record<string, unknown>;
        const seenKeys = new Set<string>();
        for (const [jsonKey, item] of Object.entries(json)) {
          const key = mapKeyFromJson(name, field.key!, jsonKey);
          if (seenKeys.has(key)) throw fieldError(name, `duplicate map key "${jsonKey}"`);
          seenKeys.add(key);
          if (item === null) throw fieldError(name, "map value must not be null");
          const value = this.#itemFromJson(name, field, item);
          if (value === IGNORED) continue;
          Object.defineProperty(record, key, {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        }
        return;
      }
    }
  }

  /** A list item or map value. */
  #itemFromJson(name: string, field: MemberTable, json: unknown): unknown {
    switch (field.item) {
      case "scalar":
        return scalarFromJson(name, field.scalar!, json);
      case "enum":
        return this.#enumFromJson(name, field.enum!, json);
      default:
        return this.decode(field.message!, json);
    }
  }

  #enumFromJson(name: string, typeName: string, json: unknown): number | typeof IGNORED {
    const table = this.#enum(typeName);
    if (typeof json === "number" && Number.isInteger(json)) {
      const known = table.values.some(([, , number]) => number === json);
      if (table.open ? json >= -(2 ** 31) && json < 2 ** 31 : known) return json;
      throw fieldError(name, `expected enum ${typeName}, got ${json}`);
    }
    if (typeof json === "string") {
      let numbers = this.#enumNumbers.get(typeName);
      if (numbers === undefined) {
        numbers = new Map();
        for (const [, jsonName, number] of table.values) numbers.set(jsonName, number);
        for (const [protoName, , number] of table.values) numbers.set(protoName, number);
        this.#enumNumbers.set(typeName, numbers);
      }
      return numbers.get(json) ?? IGNORED;
    }
    throw new Error(`cannot decode enum ${typeName} from JSON: ${formatValue(json)}`);
  }
}

function zeroOf(scalar: number): unknown {
  if (SIGNED_64.has(scalar) || UNSIGNED_64.has(scalar)) return 0n;
  if (scalar === S.BOOL) return false;
  if (scalar === S.STRING) return "";
  if (scalar === S.BYTES) return new Uint8Array(0);
  return 0;
}

function scalarFromJson(name: string, scalar: number, json: unknown): unknown {
  const wrong = (detail?: string) =>
    fieldError(
      name,
      `expected ${SCALAR_NAMES[scalar] ?? "scalar"}${
        detail === undefined ? `, got ${formatValue(json)}` : `: ${detail}`
      }`,
    );
  if (scalar === S.DOUBLE || scalar === S.FLOAT) {
    let value = json;
    if (json === "NaN") value = NaN;
    else if (json === "Infinity") value = Infinity;
    else if (json === "-Infinity") value = -Infinity;
    else if (typeof json === "string" && json !== "" && json.trim() === json) {
      const number = Number(json);
      if (Number.isFinite(number)) value = number;
    }
    if (typeof value !== "number") throw wrong();
    if (scalar === S.FLOAT && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
      throw wrong(`${value.toFixed()} out of range`);
    }
    return value;
  }
  if (SIGNED_32.has(scalar) || UNSIGNED_32.has(scalar)) {
    let value = json;
    if (typeof json === "string" && json !== "" && json.trim() === json) {
      const number = Number(json);
      if (!Number.isNaN(number)) value = number;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) throw wrong();
    const [min, max] = SIGNED_32.has(scalar) ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
    if (value < min || value > max) throw wrong(`${value.toFixed()} out of range`);
    return value;
  }
  if (SIGNED_64.has(scalar) || UNSIGNED_64.has(scalar)) {
    if (typeof json !== "number" && (typeof json !== "string" || json === "")) throw wrong();
    let value: bigint;
    try {
      value = BigInt(json);
    } catch {
      throw wrong(`${json} out of range`);
    }
    const [min, max] = SIGNED_64.has(scalar) ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
    if (value < min || value > max) throw wrong(`${json} out of range`);
    return value;
  }
  if (scalar === S.BOOL) {
    if (typeof json !== "boolean") throw wrong();
    return json;
  }
  if (scalar === S.STRING) {
    if (typeof json !== "string") throw wrong();
    if (!json.isWellFormed()) throw wrong("invalid UTF8");
    return json;
  }
  if (scalar === S.BYTES) {
    if (typeof json !== "string") throw wrong();
    try {
      const standard = json.replace(/-/g, "+").replace(/_/g, "/");
      return Uint8Array.from(
        atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, "=")),
        (c) => c.charCodeAt(0),
      );
    } catch (error) {
      throw wrong(error instanceof Error ? error.message : String(error));
    }
  }
  throw wrong();
}

/** A map key as protobuf-es keeps it: 64-bit integers canonical, "01" and "1" alike. */
function mapKeyFromJson(name: string, scalar: number, key: string): string {
  if (SIGNED_64.has(scalar) || UNSIGNED_64.has(scalar)) {
    const canonical = /^-?0+$/.test(key) ? "0" : key.replace(/^(-?)0+(?=\d)/, "$1");
    scalarFromJson(name, scalar, canonical); // range and form
    return canonical;
  }
  if (SIGNED_32.has(scalar) || UNSIGNED_32.has(scalar)) {
    return String(scalarFromJson(name, scalar, key));
  }
  if (scalar === S.BOOL) {
    if (key !== "true" && key !== "false") throw fieldError(name, `invalid map key: ${key}`);
    return key;
  }
  return key;
}

const SCALAR_NAMES: Record<number, string> = {
  [S.DOUBLE]: "double",
  [S.FLOAT]: "float",
  [S.INT64]: "int64",
  [S.UINT64]: "uint64",
  [S.INT32]: "int32",
  [S.FIXED64]: "fixed64",
  [S.FIXED32]: "fixed32",
  [S.BOOL]: "bool",
  [S.STRING]: "string",
  [S.BYTES]: "bytes",
  [S.UINT32]: "uint32",
  [S.SFIXED32]: "sfixed32",
  [S.SFIXED64]: "sfixed64",
  [S.SINT32]: "sint32",
  [S.SINT64]: "sint64",
};

function fieldError(name: string, reason: string): Error {
  return new Error(`cannot decode field ${name} from JSON: ${reason}`);
}

function formatValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "Array";
  if (typeof value === "object") return "object";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

let decoder: JsonMessageDecoder | undefined;

/**
 * Decodes the model configuration JSON Triton hands a backend, as
 * `modelConfigFromTritonJson` in ./config.ts does, without protobuf-es.
 *
 * @param json The JSON text.
 * @returns The configuration.
 * @throws {Error} `invalid Triton model configuration JSON: ...` if the
 * text is not JSON or a declared field has a value of the wrong type.
 */
export function modelConfigFromJson(json: string): ModelConfig {
  decoder ??= new JsonMessageDecoder(MODEL_CONFIG_JSON_TABLE);
  try {
    return decoder.decode("inference.ModelConfig", JSON.parse(json)) as unknown as ModelConfig;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid Triton model configuration JSON: ${detail}`, { cause: error });
  }
}
