/**
 * The shape of the schema table that ./from_json.ts decodes with
 * (generated into ./json_table.ts by ./json_table_gen.ts).
 *
 * @module
 */

/** What a field holds; `list` and `map` say what their items are in `item`. */
export type FieldKind = "scalar" | "enum" | "message" | "list" | "map";

/** A field, or the place of a oneof group, in declaration order. */
export interface MemberTable {
  /** A oneof group's property name (then no other key is set). */
  oneof?: string;
  /** The field's proto name (snake_case). */
  name?: string;
  /** Its JSON name (lowerCamelCase). */
  json?: string;
  /** Its property name in the message object. */
  local?: string;
  /** What it holds. */
  kind?: FieldKind;
  /** The oneof group the field belongs to, by property name. */
  inOneof?: string;
  /** A list's or map's item kind. */
  item?: "scalar" | "enum" | "message";
  /** `ScalarType` of a scalar (or of the items). */
  scalar?: number;
  /** `ScalarType` of a map's keys. */
  key?: number;
  /** Enum type name. */
  enum?: string;
  /** Message type name. */
  message?: string;
}

/** One message type. */
export interface MessageTable {
  /** Fields and oneof groups in declaration order, each group followed by its fields. */
  members: MemberTable[];
}

/** One enum type. */
export interface EnumTable {
  /** Open enums (proto3) accept any int32 number. */
  open: boolean;
  /** `[proto name, JSON name, number]`, the first value being the zero value. */
  values: [string, string, number][];
}

/** Every message and enum of a schema, by fully qualified type name. */
export interface JsonTable {
  /** Message types. */
  messages: Record<string, MessageTable>;
  /** Enum types. */
  enums: Record<string, EnumTable>;
}
