/**
 * Is an rpm License string an SPDX license expression? AlmaLinux 10 packages use SPDX expressions
 * (`GPL-2.0-or-later AND MIT`); older ones use Fedora's short names (`GPLv2+ and LGPLv2+`), which an
 * SBOM must carry as a named license instead. Identifiers are checked against the SPDX list shipped
 * with @cyclonedx/cyclonedx-library (the list its schemas validate against).
 */
import { cyclonedxLibrary } from "./cyclonedx-lib.js";

export type LicenseClass =
  | { readonly kind: "id"; readonly id: string }
  | { readonly kind: "expression"; readonly expression: string }
  | { readonly kind: "other"; readonly text: string }
  | { readonly kind: "none" };

const LICENSE_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;

function isKnownId(token: string): boolean {
  return cyclonedxLibrary().SPDX.isSupportedSpdxId(token);
}

function isLicenseId(token: string): boolean {
  if (LICENSE_REF.test(token) || isKnownId(token)) return true;
  return token.endsWith("+") && isKnownId(token.slice(0, -1));
}

function tokenize(text: string): string[] {
  return text
    .replace(/([()])/g, " $1 ")
    .split(/\s+/)
    .filter((t) => t !== "");
}

/** True when `text` parses as an SPDX license expression (operators in upper case, known identifiers). */
export function isSpdxExpression(text: string): boolean {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  // expression := and-expr (OR and-expr)* ; and-expr := with-expr (AND with-expr)* ;
  // with-expr := atom [WITH exception] ; atom := ( expression ) | license-id
  const expression = (): boolean => {
    if (!andExpr()) return false;
    while (peek() === "OR") {
      at++;
      if (!andExpr()) return false;
    }
    return true;
  };
  const andExpr = (): boolean => {
    if (!withExpr()) return false;
    while (peek() === "AND") {
      at++;
      if (!withExpr()) return false;
    }
    return true;
  };
  const withExpr = (): boolean => {
    if (!atom()) return false;
    if (peek() === "WITH") {
      at++;
      const exception = tokens[at++];
      return exception !== undefined && isKnownId(exception);
    }
    return true;
  };
  const atom = (): boolean => {
    const t = tokens[at++];
    if (t === undefined) return false;
    if (t === "(") {
      if (!expression()) return false;
      return tokens[at++] === ")";
    }
    if (t === ")" || t === "AND" || t === "OR" || t === "WITH") return false;
    return isLicenseId(t);
  };
  return tokens.length > 0 && expression() && at === tokens.length;
}

export function classifyLicense(raw: string): LicenseClass {
  const text = raw.trim();
  if (text === "" || text === "(none)") return { kind: "none" };
  if (isSpdxExpression(text)) {
    const single = tokenize(text);
    if (single.length === 1 && isKnownId(single[0]!)) return { kind: "id", id: single[0]! };
    return { kind: "expression", expression: text };
  }
  return { kind: "other", text };
}
