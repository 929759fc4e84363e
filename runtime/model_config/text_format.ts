// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
/**
 * A parser for the protobuf text format, the syntax of Triton's
 * `config.pbtxt` files, driven by protobuf-es descriptors so it works for any
 * message type.
 *
 * protobuf-es (the pinned 2.17) has a text-format reader of its own,
 * `fromText` in `@bufbuild/protobuf/txtpb`, and it refuses what Triton's C++
 * `TextFormat` parser refuses (a singular field given twice, an unknown
 * field or enum name). It is not used because its errors name the field
 * but not where it is, and a model repository author needs
 * `file:line:column` to find the mistake in a long config.pbtxt. The two
 * readers are checked against each other on every config.pbtxt of the
 * repository (text_format_test.ts).
 *
 * @example Parse a message
 * ```ts
 * import { parseTextFormat } from "./text_format.ts";
 * import { ModelConfigSchema } from "./model_config_pb.ts";
 *
 * const config = parseTextFormat(
 *   ModelConfigSchema,
 *   'name: "add_sub" max_batch_size: 8',
 *   "config.pbtxt",
 * );
 * console.log(config.maxBatchSize); // 8
 * ```
 *
 * @module
 */

import {
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
} from "npm:@bufbuild/protobuf@2.17.0";
import {
  reflect,
  type ReflectMessage,
  scalarZeroValue,
} from "npm:@bufbuild/protobuf@2.17.0/reflect";

/**
 * A syntax or schema error in protobuf text format input, with the position
 * (1-based line and column, columns counted in Unicode code points) of the
 * offending token.
 *
 * The `message` is prefixed with `file:line:column: ` so it can be shown to a
 * user as is; `reason` holds the bare description.
 *
 * @example Report a parse failure
 * ```ts
 * import { parseTextFormat, TextFormatError } from "./text_format.ts";
 * import { ModelConfigSchema } from "./model_config_pb.ts";
 *
 * try {
 *   parseTextFormat(ModelConfigSchema, "max_batch: 8", "config.pbtxt");
 * } catch (error) {
 *   if (error instanceof TextFormatError) {
 *     console.log(error.message);
 *     // config.pbtxt:1:1: unknown field "max_batch" in inference.ModelConfig
 *     console.log(error.line, error.column); // 1 1
 *   }
 * }
 * ```
 */
export class TextFormatError extends Error {
  /** The file name given to the parser, used as the message prefix. */
  readonly file: string;
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column (in code points) of the offending token. */
  readonly column: number;
  /** The description of the problem without the position prefix. */
  readonly reason: string;

  /**
   * Creates an error located at `file:line:column`.
   *
   * @param reason Description of the problem, without position.
   * @param file File name shown in the message.
   * @param line 1-based line number.
   * @param column 1-based column number.
   */
  constructor(reason: string, file: string, line: number, column: number) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "TextFormatError";
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/**
 * Parses protobuf text format into a message of the given schema.
 *
 * Supported syntax: `#` comments; integers (decimal, `0x` hex, leading-zero
 * octal, negative), floats (incl. exponent, `f` suffix, `inf`, `nan`), bools
 * (`true`/`True`/`t`/`1` and the false forms), strings in either quote style
 * with C escapes and adjacent-literal concatenation, enums by name or number,
 * nested messages in `{}` or `<>` with an optional colon, repeated fields as
 * repeated entries or `[a, b]` lists, map fields as `key`/`value` entries,
 * and `,` or `;` after any field.
 *
 * Like Triton's C++ parser, a non-repeated field given twice, or two members
 * of one oneof, is an error. Extensions and expanded `Any` are not supported.
 *
 * @param schema Descriptor of the message to parse, e.g. `ModelConfigSchema`.
 * @param text The text format input.
 * @param fileName Name used in error messages; defaults to `"<input>"`.
 * @returns The parsed message.
 * @throws {TextFormatError} On any syntax or schema error.
 *
 * @example Parse a Triton model configuration
 * ```ts
 * import { parseTextFormat } from "./text_format.ts";
 * import { ModelConfigSchema } from "./model_config_pb.ts";
 *
 * const config = parseTextFormat(
 *   ModelConfigSchema,
 *   `
 *   name: "add_sub"  # the model name
 *   input [{ name: "INPUT0", data_type: TYPE_FP32, dims: [4] }]
 *   `,
 * );
 * console.log(config.input[0].dims); // [4n]
 * ```
 */
export function parseTextFormat<Desc extends DescMessage>(
  schema: Desc,
  text: string,
  fileName = "<input>",
): MessageShape<Desc> {
  const message = create(schema);
  const parser = new Parser(new Lexer(text, fileName), fileName);
  parser.parseRoot(reflect(schema, message));
  return message;
}

// ---------------------------------------------------------------------------
// Lexer

/** Deepest message nesting accepted, so hostile input cannot blow the stack. */
const MAX_DEPTH = 100;

type Punct = "{" | "}" | "<" | ">" | "[" | "]" | ":" | "," | ";" | "-";
const PUNCTS: ReadonlySet<string> = new Set([
  "{",
  "}",
  "<",
  ">",
  "[",
  "]",
  ":",
  ",",
  ";",
  "-",
]);

interface Position {
  readonly line: number;
  readonly column: number;
}

type Token =
  & Position
  & (
    | { readonly kind: "punct"; readonly text: Punct }
    | { readonly kind: "identifier"; readonly text: string }
    | { readonly kind: "number"; readonly text: string }
    // `text` is the raw literal including quotes (for messages); `bytes` is
    // the decoded content, bytes rather than a string because `\x` escapes
    // may produce sequences that are only valid for bytes fields.
    | {
      readonly kind: "string";
      readonly text: string;
      readonly bytes: number[];
    }
    | { readonly kind: "eof"; readonly text: "" }
  );

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /0[xX][0-9A-Fa-f]+|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?/y;
// What may not directly follow a number: `12abc` or `1.2.3` is one bad token,
// not a number followed by an identifier.
const NUMBER_TAIL = /[A-Za-z0-9_.]+/y;
const HEX = /^[0-9A-Fa-f]$/;
const OCTAL = /^[0-7]$/;

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "?": 0x3f,
};

/** Splits text format input into tokens on demand, tracking positions. */
class Lexer {
  readonly #text: string;
  readonly #file: string;
  #pos = 0;
  #line = 1;
  #column = 1;

  constructor(text: string, file: string) {
    this.#text = text;
    this.#file = file;
  }

  next(): Token {
    this.#skipSpaceAndComments();
    const line = this.#line;
    const column = this.#column;
    const text = this.#text;
    if (this.#pos >= text.length) {
      return { kind: "eof", text: "", line, column };
    }
    const c = text[this.#pos];
    if (PUNCTS.has(c)) {
      this.#advance(1);
      return { kind: "punct", text: c as Punct, line, column };
    }
    if (c === '"' || c === "'") return this.#readString(c, line, column);
    const ident = this.#match(IDENTIFIER);
    if (ident !== undefined) {
      this.#advance(ident.length);
      return { kind: "identifier", text: ident, line, column };
    }
    const num = this.#match(NUMBER);
    if (num !== undefined) {
      NUMBER_TAIL.lastIndex = this.#pos + num.length;
      const tail = NUMBER_TAIL.exec(text);
      if (tail !== null) {
        throw this.#error(`invalid number "${num}${tail[0]}"`, line, column);
      }
      this.#advance(num.length);
      return { kind: "number", text: num, line, column };
    }
    const shown = String.fromCodePoint(text.codePointAt(this.#pos) ?? 0);
    throw this.#error(
      `unexpected character ${JSON.stringify(shown)}`,
      line,
      column,
    );
  }

  #match(re: RegExp): string | undefined {
    re.lastIndex = this.#pos;
    return re.exec(this.#text)?.[0];
  }

  /** Moves forward `n` UTF-16 code units, keeping line and column current. */
  #advance(n: number): void {
    const end = this.#pos + n;
    for (; this.#pos < end; this.#pos++) {
      const code = this.#text.charCodeAt(this.#pos);
      if (code === 0x0a) {
        this.#line++;
        this.#column = 1;
      } else if (code < 0xdc00 || code > 0xdfff) {
        // A low surrogate completes the code point its high half counted.
        this.#column++;
      }
    }
  }

  #skipSpaceAndComments(): void {
    const text = this.#text;
    while (this.#pos < text.length) {
      const c = text[this.#pos];
      if (c === "#") {
        const eol = text.indexOf("\n", this.#pos);
        this.#advance((eol < 0 ? text.length : eol) - this.#pos);
      } else if (
        c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" ||
        c === "\f"
      ) {
        this.#advance(1);
      } else {
        return;
      }
    }
  }

  #readString(quote: string, line: number, column: number): Token {
    const text = this.#text;
    const start = this.#pos;
    const bytes: number[] = [];
    this.#advance(1);
    for (;;) {
      if (this.#pos >= text.length || text[this.#pos] === "\n") {
        throw this.#error("unterminated string", line, column);
      }
      const c = text[this.#pos];
      if (c === quote) {
        this.#advance(1);
        break;
      }
      if (c === "\\") {
        this.#readEscape(bytes, line, column);
        continue;
      }
      const cp = text.codePointAt(this.#pos) ?? 0;
      pushUtf8(bytes, cp);
      this.#advance(cp > 0xffff ? 2 : 1);
    }
    return {
      kind: "string",
      text: text.slice(start, this.#pos),
      bytes,
      line,
      column,
    };
  }

  /** Decodes the escape sequence at the cursor (a backslash) into `bytes`. */
  #readEscape(
    bytes: number[],
    stringLine: number,
    stringColumn: number,
  ): void {
    const text = this.#text;
    const line = this.#line;
    const column = this.#column;
    const c = text[this.#pos + 1];
    if (c === undefined || c === "\n") {
      throw this.#error("unterminated string", stringLine, stringColumn);
    }
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) {
      bytes.push(simple);
      this.#advance(2);
      return;
    }
    if (OCTAL.test(c)) {
      let digits = c;
      while (
        digits.length < 3 &&
        OCTAL.test(text[this.#pos + 1 + digits.length] ?? "")
      ) {
        digits += text[this.#pos + 1 + digits.length];
      }
      const value = parseInt(digits, 8);
      if (value > 0xff) {
        throw this.#error(
          `octal escape "\\${digits}" exceeds 0xff`,
          line,
          column,
        );
      }
      bytes.push(value);
      this.#advance(1 + digits.length);
      return;
    }
    if (c === "x" || c === "X") {
      let digits = "";
      while (
        digits.length < 2 && HEX.test(text[this.#pos + 2 + digits.length] ?? "")
      ) {
        digits += text[this.#pos + 2 + digits.length];
      }
      if (digits === "") {
        throw this.#error(`invalid escape sequence "\\${c}"`, line, column);
      }
      bytes.push(parseInt(digits, 16));
      this.#advance(2 + digits.length);
      return;
    }
    if (c === "u" || c === "U") {
      let cp = this.#unicodeEscapeAt(this.#pos, line, column);
      let length = c === "u" ? 6 : 10;
      if (
        cp >= 0xd800 && cp <= 0xdbff && text[this.#pos + 6] === "\\" &&
        text[this.#pos + 7] === "u"
      ) {
        // A UTF-16 surrogate pair spelled as two \u escapes.
        const low = this.#unicodeEscapeAt(this.#pos + 6, line, column);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          length = 12;
        }
      }
      if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        throw this.#error(
          `invalid Unicode escape "${text.slice(this.#pos, this.#pos + length)}"`,
          line,
          column,
        );
      }
      pushUtf8(bytes, cp);
      this.#advance(length);
      return;
    }
    const shown = String.fromCodePoint(text.codePointAt(this.#pos + 1) ?? 0);
    throw this.#error(`invalid escape sequence "\\${shown}"`, line, column);
  }

  /** Reads the `\uXXXX` or `\UXXXXXXXX` escape starting at `at`. */
  #unicodeEscapeAt(at: number, line: number, column: number): number {
    const length = this.#text[at + 1] === "u" ? 4 : 8;
    let digits = "";
    while (
      digits.length < length &&
      HEX.test(this.#text[at + 2 + digits.length] ?? "")
    ) {
      digits += this.#text[at + 2 + digits.length];
    }
    if (digits.length !== length) {
      throw this.#error(
        `invalid Unicode escape "${this.#text.slice(at, at + 2)}${digits}"`,
        line,
        column,
      );
    }
    return parseInt(digits, 16);
  }

  #error(reason: string, line: number, column: number): TextFormatError {
    return new TextFormatError(reason, this.#file, line, column);
  }
}

function pushUtf8(bytes: number[], cp: number): void {
  if (cp < 0x80) {
    bytes.push(cp);
  } else if (cp < 0x800) {
    bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    bytes.push(
      0xe0 | (cp >> 12),
      0x80 | ((cp >> 6) & 0x3f),
      0x80 | (cp & 0x3f),
    );
  } else {
    bytes.push(
      0xf0 | (cp >> 18),
      0x80 | ((cp >> 12) & 0x3f),
      0x80 | ((cp >> 6) & 0x3f),
      0x80 | (cp & 0x3f),
    );
  }
}

// ---------------------------------------------------------------------------
// Parser

/**
 * Where a value goes, for error messages: a field name and the full name of
 * the message that declares it (a synthetic `...Entry` name for map entries,
 * matching what protoc calls them).
 */
interface Target {
  readonly field: string;
  readonly owner: string;
}

/** The type of a single value: one scalar, or one enum. */
type ValueType =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly desc: DescEnum };

type MapField = DescField & { fieldKind: "map" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

const INT_RANGES: ReadonlyMap<ScalarType, readonly [bigint, bigint]> = new Map<
  ScalarType,
  readonly [bigint, bigint]
>([
  [ScalarType.INT32, [-(2n ** 31n), 2n ** 31n - 1n]],
  [ScalarType.SINT32, [-(2n ** 31n), 2n ** 31n - 1n]],
  [ScalarType.SFIXED32, [-(2n ** 31n), 2n ** 31n - 1n]],
  [ScalarType.UINT32, [0n, 2n ** 32n - 1n]],
  [ScalarType.FIXED32, [0n, 2n ** 32n - 1n]],
  [ScalarType.INT64, [-(2n ** 63n), 2n ** 63n - 1n]],
  [ScalarType.SINT64, [-(2n ** 63n), 2n ** 63n - 1n]],
  [ScalarType.SFIXED64, [-(2n ** 63n), 2n ** 63n - 1n]],
  [ScalarType.UINT64, [0n, 2n ** 64n - 1n]],
  [ScalarType.FIXED64, [0n, 2n ** 64n - 1n]],
]);

const INT64_TYPES: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}

function isIntegerLiteral(text: string): boolean {
  return /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)$/.test(text);
}

/** Short human description of a token for "unexpected ..." messages. */
function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of input";
    case "punct":
      return `"${token.text}"`;
    case "identifier":
      return `identifier "${token.text}"`;
    case "number":
      return `number ${token.text}`;
    case "string":
      return `string ${token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text}`;
  }
}

function isPunct(token: Token, text: Punct): boolean {
  return token.kind === "punct" && token.text === text;
}

/** Recursive-descent parser over the token stream, writing via reflection. */
class Parser {
  readonly #lexer: Lexer;
  readonly #file: string;
  #peeked: Token | undefined;

  constructor(lexer: Lexer, file: string) {
    this.#lexer = lexer;
    this.#file = file;
  }

  parseRoot(target: ReflectMessage): void {
    this.#parseFields(target, 0, undefined);
  }

  #peek(): Token {
    this.#peeked ??= this.#lexer.next();
    return this.#peeked;
  }

  #next(): Token {
    const token = this.#peek();
    this.#peeked = undefined;
    return token;
  }

  #tryConsume(text: Punct): Token | undefined {
    return isPunct(this.#peek(), text) ? this.#next() : undefined;
  }

  #fail(at: Position, reason: string): never {
    throw new TextFormatError(reason, this.#file, at.line, at.column);
  }

  #unexpected(token: Token, expected: string): never {
    this.#fail(token, `unexpected ${describe(token)}, expected ${expected}`);
  }

  /**
   * Parses fields until the closing delimiter of `open` (or end of input for
   * the root message).
   */
  #parseFields(
    target: ReflectMessage,
    depth: number,
    open: { readonly token: Token; readonly field: string } | undefined,
  ): void {
    const close = open === undefined ? undefined : isPunct(open.token, "<") ? ">" : "}";
    // Field numbers already given, to reject repeats of singular fields.
    const seen = new Set<number>();
    for (;;) {
      const token = this.#peek();
      if (token.kind === "eof") {
        if (open === undefined) return;
        this.#fail(
          token,
          `missing closing "${close}" for field "${open.field}" opened at ${open.token.line}:${open.token.column}`,
        );
      }
      if (close !== undefined && isPunct(token, close)) {
        this.#next();
        return;
      }
      if (token.kind !== "identifier") {
        if (isPunct(token, "[")) {
          this.#fail(
            token,
            "extension and Any fields ([...] names) are not supported",
          );
        }
        this.#unexpected(
          token,
          close === undefined ? "field name" : `field name or "${close}"`,
        );
      }
      this.#next();
      this.#parseField(target, token, seen, depth);
      if (!this.#tryConsume(",")) this.#tryConsume(";");
    }
  }

  #parseField(
    target: ReflectMessage,
    name: Token,
    seen: Set<number>,
    depth: number,
  ): void {
    const desc = target.desc;
    const field = desc.fields.find((f) => f.name === name.text);
    if (field === undefined) {
      this.#fail(name, `unknown field "${name.text}" in ${desc.typeName}`);
    }
    const where: Target = { field: field.name, owner: desc.typeName };

    if (field.fieldKind !== "list" && field.fieldKind !== "map") {
      if (seen.has(field.number)) {
        this.#fail(
          name,
          `field "${field.name}" specified more than once in ${desc.typeName}`,
        );
      }
      const other = field.oneof?.fields.find((f) => f !== field && seen.has(f.number));
      if (other !== undefined && field.oneof !== undefined) {
        this.#fail(
          name,
          `field "${field.name}" conflicts with "${other.name}" in ${desc.typeName}: both are in oneof "${field.oneof.name}"`,
        );
      }
      seen.add(field.number);
    }

    switch (field.fieldKind) {
      case "message": {
        this.#tryConsume(":");
        const child = this.#parseMessageValue(field.message, where, depth);
        this.#store(name, () => target.set(field, child));
        return;
      }
      case "scalar":
      case "enum": {
        this.#expectColon(where);
        const type: ValueType = field.fieldKind === "scalar"
          ? { kind: "scalar", scalar: field.scalar }
          : { kind: "enum", desc: field.enum };
        const start = this.#peek();
        if (isPunct(start, "[")) {
          this.#fail(
            start,
            `unexpected "[": field "${field.name}" in ${desc.typeName} is not repeated`,
          );
        }
        const value = this.#parseValue(type, where);
        this.#store(start, () => target.set(field, value));
        return;
      }
      case "list": {
        const list = target.get(field);
        if (field.listKind === "message") {
          // Triton configs write `input [ {...}, {...} ]` without a colon;
          // the C++ parser accepts that for message lists.
          this.#tryConsume(":");
          const item = () => {
            const child = this.#parseMessageValue(field.message, where, depth);
            list.add(child);
          };
          const open = this.#tryConsume("[");
          if (open !== undefined) this.#parseList(open, item);
          else item();
          return;
        }
        this.#expectColon(where);
        const type: ValueType = field.listKind === "scalar"
          ? { kind: "scalar", scalar: field.scalar }
          : { kind: "enum", desc: field.enum };
        const item = () => {
          const start = this.#peek();
          const value = this.#parseValue(type, where);
          this.#store(start, () => list.add(value));
        };
        const open = this.#tryConsume("[");
        if (open !== undefined) this.#parseList(open, item);
        else item();
        return;
      }
      case "map": {
        this.#tryConsume(":");
        const entry = () => this.#parseMapEntry(target, field, depth);
        const open = this.#tryConsume("[");
        if (open !== undefined) this.#parseList(open, entry);
        else entry();
        return;
      }
    }
  }

  /** Runs a reflection write, turning a rejected value into a located error. */
  #store(at: Position, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.#fail(at, error instanceof Error ? error.message : String(error));
    }
  }

  #expectColon(where: Target): void {
    const token = this.#next();
    if (!isPunct(token, ":")) {
      this.#unexpected(
        token,
        `":" after field "${where.field}" in ${where.owner}`,
      );
    }
  }

  /** Parses `item (, item)* ]` after an opening `[`; `[]` is allowed. */
  #parseList(open: Token, item: () => void): void {
    if (this.#tryConsume("]")) return;
    for (;;) {
      item();
      const token = this.#next();
      if (isPunct(token, "]")) return;
      if (isPunct(token, ",")) continue;
      if (token.kind === "eof") {
        this.#fail(
          token,
          `missing closing "]" for list opened at ${open.line}:${open.column}`,
        );
      }
      this.#unexpected(token, `"," or "]"`);
    }
  }

  #parseMessageValue(
    desc: DescMessage,
    where: Target,
    depth: number,
  ): ReflectMessage {
    const open = this.#next();
    if (!isPunct(open, "{") && !isPunct(open, "<")) {
      this.#unexpected(
        open,
        `"{" to open message field "${where.field}" in ${where.owner}`,
      );
    }
    if (depth >= MAX_DEPTH) {
      this.#fail(open, `messages nested deeper than ${MAX_DEPTH} levels`);
    }
    const child = reflect(desc);
    this.#parseFields(child, depth + 1, { token: open, field: where.field });
    return child;
  }

  /** Parses one `{ key: k value: v }` map entry and stores it. */
  #parseMapEntry(target: ReflectMessage, field: MapField, depth: number): void {
    const owner = `${field.parent.typeName}.${
      field.jsonName[0].toUpperCase() + field.jsonName.slice(1)
    }Entry`;
    const open = this.#next();
    if (!isPunct(open, "{") && !isPunct(open, "<")) {
      this.#unexpected(
        open,
        `"{" to open map entry of field "${field.name}" in ${field.parent.typeName}`,
      );
    }
    const close = isPunct(open, "<") ? ">" : "}";
    let key: unknown;
    let value: unknown;
    for (;;) {
      const token = this.#next();
      if (isPunct(token, close)) break;
      if (token.kind === "eof") {
        this.#fail(
          token,
          `missing closing "${close}" for field "${field.name}" opened at ${open.line}:${open.column}`,
        );
      }
      if (token.kind !== "identifier") {
        this.#unexpected(token, `"key", "value" or "${close}"`);
      }
      const where: Target = { field: token.text, owner };
      if (token.text === "key") {
        if (key !== undefined) {
          this.#fail(token, `field "key" specified more than once in ${owner}`);
        }
        this.#expectColon(where);
        key = this.#parseValue({ kind: "scalar", scalar: field.mapKey }, where);
      } else if (token.text === "value") {
        if (value !== undefined) {
          this.#fail(
            token,
            `field "value" specified more than once in ${owner}`,
          );
        }
        if (field.mapKind === "message") {
          this.#tryConsume(":");
          value = this.#parseMessageValue(field.message, where, depth);
        } else {
          this.#expectColon(where);
          value = this.#parseValue(
            field.mapKind === "scalar"
              ? { kind: "scalar", scalar: field.scalar }
              : { kind: "enum", desc: field.enum },
            where,
          );
        }
      } else {
        this.#fail(token, `unknown field "${token.text}" in ${owner}`);
      }
      if (!this.#tryConsume(",")) this.#tryConsume(";");
    }
    // Omitted key or value means the zero value, as in the binary format.
    key ??= scalarZeroValue(field.mapKey, false);
    if (value === undefined) {
      switch (field.mapKind) {
        case "message":
          value = reflect(field.message);
          break;
        case "enum":
          value = field.enum.values[0]?.number ?? 0;
          break;
        case "scalar":
          value = scalarZeroValue(field.scalar, false);
          break;
      }
    }
    const map = target.get(field);
    this.#store(open, () => map.set(key, value));
  }

  #parseValue(type: ValueType, where: Target): unknown {
    if (type.kind === "enum") return this.#parseEnum(type.desc, where);
    const scalar = type.scalar;
    switch (scalar) {
      case ScalarType.STRING: {
        const [start, bytes] = this.#parseStringBytes(where, "string");
        try {
          return utf8.decode(bytes);
        } catch {
          return this.#invalid(start, where, "string", "not valid UTF-8");
        }
      }
      case ScalarType.BYTES:
        return this.#parseStringBytes(where, "bytes")[1];
      case ScalarType.BOOL:
        return this.#parseBool(where);
      case ScalarType.FLOAT:
      case ScalarType.DOUBLE:
        return this.#parseFloat(scalar, where);
      default:
        return this.#parseInteger(scalar, where);
    }
  }

  #invalid(
    at: Position,
    where: Target,
    type: string,
    detail: string,
  ): never {
    this.#fail(
      at,
      `invalid value for ${type} field "${where.field}" in ${where.owner}: ${detail}`,
    );
  }

  /** Reads one string literal plus any adjacent ones, concatenated. */
  #parseStringBytes(where: Target, type: string): [Token, Uint8Array] {
    const first = this.#next();
    if (first.kind !== "string") {
      this.#invalid(
        first,
        where,
        type,
        `expected string, found ${describe(first)}`,
      );
    }
    const bytes = [...first.bytes];
    for (let next = this.#peek(); next.kind === "string"; next = this.#peek()) {
      bytes.push(...next.bytes);
      this.#next();
    }
    return [first, new Uint8Array(bytes)];
  }

  #parseBool(where: Target): boolean {
    const token = this.#next();
    if (token.kind === "identifier" || token.kind === "number") {
      switch (token.text) {
        case "true":
        case "True":
        case "t":
        case "1":
          return true;
        case "false":
        case "False":
        case "f":
        case "0":
          return false;
      }
    }
    this.#invalid(
      token,
      where,
      "bool",
      `expected true or false, found ${describe(token)}`,
    );
  }

  /** Reads an optional minus and an integer literal as an exact bigint. */
  #parseSignedInteger(
    where: Target,
    type: string,
  ): { start: Token; value: bigint; text: string } {
    const minus = this.#tryConsume("-");
    const token = this.#next();
    const start = minus ?? token;
    if (token.kind !== "number" || !isIntegerLiteral(token.text)) {
      this.#invalid(
        start,
        where,
        type,
        `expected integer, found ${describe(token)}`,
      );
    }
    let text = token.text;
    if (/^0[0-9]+$/.test(text)) {
      // A leading zero means octal, as in C.
      if (!/^0[0-7]+$/.test(text)) {
        this.#invalid(start, where, type, `invalid octal number ${text}`);
      }
      text = `0o${text.slice(1)}`;
    }
    const magnitude = BigInt(text);
    return {
      start,
      value: minus === undefined ? magnitude : -magnitude,
      text: `${minus === undefined ? "" : "-"}${token.text}`,
    };
  }

  #parseInteger(scalar: ScalarType, where: Target): number | bigint {
    const type = scalarName(scalar);
    const { start, value, text } = this.#parseSignedInteger(where, type);
    const range = INT_RANGES.get(scalar);
    if (range !== undefined && (value < range[0] || value > range[1])) {
      this.#invalid(start, where, type, `${text} is out of range`);
    }
    return INT64_TYPES.has(scalar) ? value : Number(value);
  }

  #parseFloat(scalar: ScalarType, where: Target): number {
    const type = scalarName(scalar);
    const minus = this.#tryConsume("-");
    const token = this.#next();
    const start = minus ?? token;
    let value: number;
    if (token.kind === "number") {
      value = isIntegerLiteral(token.text) && !/^0[0-9]/.test(token.text)
        ? Number(BigInt(token.text))
        : Number(token.text.replace(/[fF]$/, ""));
    } else if (
      token.kind === "identifier" && /^(?:inf|infinity)$/i.test(token.text)
    ) {
      value = Infinity;
    } else if (token.kind === "identifier" && /^nan$/i.test(token.text)) {
      value = NaN;
    } else {
      this.#invalid(
        start,
        where,
        type,
        `expected number, found ${describe(token)}`,
      );
    }
    if (minus !== undefined) value = -value;
    if (
      scalar === ScalarType.FLOAT && Number.isFinite(value) &&
      !Number.isFinite(Math.fround(value))
    ) {
      this.#invalid(
        start,
        where,
        type,
        `${minus === undefined ? "" : "-"}${token.text} is out of range`,
      );
    }
    return value;
  }

  #parseEnum(desc: DescEnum, where: Target): number {
    const type = "enum";
    const token = this.#peek();
    if (token.kind === "identifier") {
      this.#next();
      const value = desc.values.find((v) => v.name === token.text);
      if (value === undefined) {
        this.#invalid(
          token,
          where,
          type,
          `"${token.text}" is not a value of ${desc.typeName}`,
        );
      }
      return value.number;
    }
    if (token.kind !== "number" && !isPunct(token, "-")) {
      this.#invalid(
        token,
        where,
        type,
        `expected ${desc.typeName} value name or number, found ${describe(token)}`,
      );
    }
    const { start, value, text } = this.#parseSignedInteger(where, type);
    const range = INT_RANGES.get(ScalarType.INT32);
    if (range !== undefined && (value < range[0] || value > range[1])) {
      this.#invalid(start, where, type, `${text} is out of range`);
    }
    const number = Number(value);
    // Open (proto3) enums keep unknown numbers; closed ones reject them.
    if (!desc.open && desc.value[number] === undefined) {
      this.#invalid(
        start,
        where,
        type,
        `${text} is not a value of ${desc.typeName}`,
      );
    }
    return number;
  }
}
