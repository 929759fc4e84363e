/**
 * Small statistics and formatting helpers for the benchmark table.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 *
 * console.log(percentile([5, 1, 3], 0.5)); // 3
 * ```
 *
 * @module
 */

/** The q-quantile (0..1) of the values, nearest-rank on the sorted copy. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Array.from(values).sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** The median of the values. */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 0.5);
}

/** A number with thousands separators and the given decimals. */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** Renders rows as a Markdown table with padded columns. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (cell ?? "").padEnd(widths[column])).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}
