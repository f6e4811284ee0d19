/** How the dashboard writes numbers, amounts, times and ids. */

const integer = new Intl.NumberFormat("en-US");

export const count = (n: number) => integer.format(n);

/** DB-CPTM minor units (6 decimals) as DB-CPTM, exact (no floating point). */
export function amount(minor: string | number): string {
  const value = BigInt(minor);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const whole = integer.format(abs / 1_000_000n);
  const fraction = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

export const time = (ms: number) => new Date(ms).toLocaleString("en-GB", { hour12: false });

export const shortId = (id: string, keep = 10) => (id.length > keep + 4 ? `${id.slice(0, keep)}…` : id);

/** Builds an element with text or children; attributes are set as given. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Replaces a table's content: a header row and one row per item. */
export function fillTable(table: HTMLTableElement, header: string[], rows: HTMLTableRowElement[], empty: string): void {
  const head = el("tr", {}, ...header.map((h) => el("th", h.startsWith("#") ? { class: "num" } : {}, h.replace(/^#/, ""))));
  const body = rows.length ? rows : [el("tr", {}, el("td", { colspan: String(header.length), class: "empty" }, empty))];
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
}
