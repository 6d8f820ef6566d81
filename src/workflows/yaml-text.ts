/** Turns a workflow or action object into YAML text: pinned-action comments, readable expressions. */
import { Document, isMap, isScalar, Scalar, visit } from "yaml";
import { tagOf } from "./pins.js";

/**
 * Deterministic YAML for `value` with `header` as the leading comment. `uses:` values of pinned actions
 * get their release tag as a trailing comment; one-line strings holding double quotes (JSON inside an
 * expression) are written as folded blocks instead of escaped double-quoted strings; top-level keys and
 * the entries of `spaced` maps (jobs) are separated by blank lines.
 */
export function toYamlText(
  value: unknown,
  header: readonly string[],
  spaced: readonly string[] = [],
): string {
  const doc = new Document(value);
  doc.commentBefore = header.map((line) => ` ${line}`).join("\n");
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      const v = pair.value.value;
      if (typeof v !== "string") return;
      if (pair.key.value === "uses") {
        const tag = tagOf(v);
        if (tag) pair.value.comment = ` ${tag}`;
      } else if (v.includes('"') && !v.includes("\n")) {
        pair.value.type = Scalar.BLOCK_FOLDED;
      }
    },
  });
  // Blank lines before top-level sections (not between the leading scalars) and between jobs.
  if (isMap(doc.contents)) {
    doc.contents.items.forEach((item, i) => {
      if (i > 0 && isScalar(item.key) && !isScalar(item.value)) item.key.spaceBefore = true;
    });
    for (const key of spaced) {
      const section = doc.contents.get(key, true);
      if (!isMap(section)) continue;
      section.items.forEach((item, i) => {
        if (i > 0 && isScalar(item.key)) item.key.spaceBefore = true;
      });
    }
  }
  return doc.toString({ lineWidth: 0 });
}
