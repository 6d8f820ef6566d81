// Runs GitHub's @actions/workflow-parser on files given as JSON on stdin ([{name, content}]) and prints
// [{name, errors: string[]}]. A separate process under tsx: the parser imports JSON without the import
// attribute Node 20 requires for externalized modules, which tsx handles and vitest does not.
import { NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parseAction } from "@actions/workflow-parser/actions/action-parser";

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const files = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { name: string; content: string }[];
const results = files.map((file) => {
  const parsed = file.name.endsWith("action.yml")
    ? parseAction(file, new NoOperationTraceWriter())
    : parseWorkflow(file, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value === undefined) errors.push("no template value");
  return { name: file.name, errors };
});
process.stdout.write(JSON.stringify(results));
