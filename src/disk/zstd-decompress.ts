/**
 * fzstd behind a module of our own, so that qcow2.ts can import it only for zstd images: esbuild turns
 * a dynamic import of our module into a lazy initialiser in the single-file CLI builds, where an import()
 * of the package itself would need a module loader that vm.Script does not give.
 */
export { decompress } from "fzstd";
