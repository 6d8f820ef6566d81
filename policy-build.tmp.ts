import { buildImage } from "/work/wt/policy/imagegen/index.js";
const spec = JSON.parse(process.argv[2]!);
const t = Date.now();
const img = await buildImage(spec, { log: (l) => process.stderr.write(`${l}\n`) });
console.log(JSON.stringify({ paths: img.paths, kernel: img.expected.kernel, secs: (Date.now() - t) / 1000, n: img.expected.packageNames.length }));
