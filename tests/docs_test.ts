// The documentation gate: every public symbol of the package carries a titled
// `@example` that asserts something, so that JSR shows a named example and
// `deno test --doc` proves it. The symbols come from `deno doc --json` over the
// package's entry points, the same view of the API that JSR publishes.

import assert from "node:assert/strict";
import { deno } from "./_tree.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROOT_URL = new URL("..", import.meta.url).href;
const ENTRY_POINTS = ["mod.ts", "ers/mod.ts", "viz/mod.ts", "runtime/mod.ts"];
// The `deno doc --json` format this walk understands; a new one fails loudly
// rather than letting the walk silently find nothing.
const DOC_JSON_VERSION = 2;

interface DocTag {
  kind: string;
  doc?: string;
}

interface JsDoc {
  doc?: string;
  tags?: DocTag[];
}

interface DocLocation {
  filename: string;
  line: number;
  col: number;
}

interface DocMethod {
  name: string;
  kind: string;
  isStatic?: boolean;
  accessibility?: string;
  jsDoc?: JsDoc;
  location: DocLocation;
}

interface DocDeclaration {
  kind: string;
  location: DocLocation;
  jsDoc?: JsDoc;
  def?: { methods?: DocMethod[]; target?: DocLocation };
}

interface DocJson {
  version: number;
  nodes: Record<string, { symbols: { name: string; declarations: DocDeclaration[] }[] }>;
}

/** A documented thing: a top-level declaration or a public class member. */
interface PublicSymbol {
  /** How the failure message names it, e.g. `Budget.prototype.canAfford`. */
  name: string;
  /** `path:line` relative to the repository root. */
  where: string;
  jsDoc: JsDoc | undefined;
}

async function denoDocJson(): Promise<DocJson> {
  const output = await deno(["doc", "--json", ...ENTRY_POINTS], { cwd: ROOT });
  assert.equal(output.code, 0, `deno doc --json failed:\n${output.stderr}`);
  const json = JSON.parse(output.stdout) as DocJson;
  assert.equal(json.version, DOC_JSON_VERSION, "deno doc --json changed format");
  return json;
}

function key(location: DocLocation): string {
  return `${location.filename}:${location.line}:${location.col}`;
}

function where(location: DocLocation): string {
  const path = location.filename.startsWith(ROOT_URL)
    ? location.filename.slice(ROOT_URL.length)
    : location.filename;
  return `${path}:${location.line}`;
}

// Public methods, getters and setters of a class; a getter and its setter are
// one accessor, documented once. Constructors and `#private` members are not listed.
function classMembers(className: string, declaration: DocDeclaration): PublicSymbol[] {
  const members = new Map<string, PublicSymbol>();
  for (const method of declaration.def?.methods ?? []) {
    if (method.name.startsWith("#") || method.accessibility === "private") continue;
    const name = `${className}.${method.isStatic ? "" : "prototype."}${method.name}`;
    const seen = members.get(name);
    if (seen === undefined || (seen.jsDoc === undefined && method.jsDoc !== undefined)) {
      members.set(name, { name, where: where(method.location), jsDoc: method.jsDoc });
    }
  }
  return [...members.values()];
}

/**
 * Every exported declaration reachable from the entry points, once each, plus
 * the public members of exported classes. A re-export (`export { X } from`)
 * is not a declaration itself; its target must be among those found.
 */
function publicSymbols(json: DocJson): PublicSymbol[] {
  const declared = new Map<string, PublicSymbol[]>();
  const references = new Map<string, { name: string; target: DocLocation }>();
  for (const node of Object.values(json.nodes)) {
    for (const { name, declarations } of node.symbols) {
      for (const declaration of declarations) {
        if (declaration.kind === "reference") {
          const target = declaration.def?.target;
          assert.ok(target, `re-export ${name} has no target`);
          references.set(key(target), { name, target });
          continue;
        }
        if (declared.has(key(declaration.location))) continue;
        const symbol = { name, where: where(declaration.location), jsDoc: declaration.jsDoc };
        const members = declaration.kind === "class" ? classMembers(name, declaration) : [];
        declared.set(key(declaration.location), [symbol, ...members]);
      }
    }
  }
  const unresolved = [...references].filter(([at]) => !declared.has(at))
    .map(([, { name, target }]) => `${name} (${where(target)})`);
  assert.deepEqual(unresolved, [], "deno doc did not resolve these re-exports");
  return [...declared.values()].flat();
}

/** Why a symbol's JSDoc fails the rule, or `undefined` when it passes. */
function exampleProblem(jsDoc: JsDoc | undefined): string | undefined {
  const examples = (jsDoc?.tags ?? []).filter((tag) => tag.kind === "example");
  if (examples.length === 0) return "no @example";
  const titled = examples.filter((tag) => {
    const title = (tag.doc ?? "").trimStart().split("\n", 1)[0]!.trim();
    return title.length > 0 && !title.startsWith("```");
  });
  if (titled.length === 0) return "@example has no title line";
  const asserting = titled.filter((tag) =>
    [...(tag.doc ?? "").matchAll(/```[^\n]*\n([\s\S]*?)```/g)].some(([, code]) =>
      /\bassert\w*\s*(\.\s*\w+\s*)?\(/.test(code!)
    )
  );
  if (asserting.length === 0) return "titled @example never asserts";
  return undefined;
}

Deno.test("every exported symbol has a titled @example that asserts", async () => {
  const symbols = publicSymbols(await denoDocJson());
  assert.ok(symbols.length > 0, "deno doc --json found no public symbols");
  const offenders = symbols.flatMap((symbol) => {
    const problem = exampleProblem(symbol.jsDoc);
    return problem === undefined ? [] : [`  ${symbol.name} (${symbol.where}): ${problem}`];
  });
  if (offenders.length > 0) {
    assert.fail(
      `${offenders.length} of ${symbols.length} public symbols lack a titled @example that asserts:\n` +
        offenders.join("\n"),
    );
  }
});

Deno.test("a titled @example counts only when its code calls an assertion", () => {
  const example = (doc: string): JsDoc => ({ tags: [{ kind: "example", doc }] });
  const imports = 'import assert from "node:assert/strict";\n';
  const asserting = "```ts\n" + imports + "assert.equal(1 + 1, 2);\n```";
  assert.equal(exampleProblem(example(`Adding one\n${asserting}`)), undefined);
  assert.equal(exampleProblem(undefined), "no @example");
  assert.equal(exampleProblem({ doc: "No tags." }), "no @example");
  assert.equal(exampleProblem(example(asserting)), "@example has no title line");
  assert.equal(
    exampleProblem(example("Importing only\n```ts\n" + imports + "```")),
    "titled @example never asserts",
  );
});

// Every JSDoc tag in `deno doc --json`, wherever it sits (symbols, members, properties).
function allTags(value: unknown, found: { kind: string; value?: string; doc?: string }[] = []) {
  if (Array.isArray(value)) { for (const item of value) allTags(item, found); }
  else if (value !== null && typeof value === "object") {
    const tags = (value as { tags?: unknown }).tags;
    if (Array.isArray(tags)) found.push(...tags);
    for (const item of Object.values(value)) allTags(item, found);
  }
  return found;
}

Deno.test("every @default renders whole in deno doc (no object cut at its first '}')", async () => {
  const tags = allTags(await denoDocJson());
  const defaults = tags.filter((tag) => tag.kind === "default");
  assert.ok(defaults.length > 0, "no @default tag found");
  const broken = tags.filter((tag) =>
    (tag.kind === "default" && /[{}]/.test(`${tag.value}${tag.doc ?? ""}`)) ||
    (tag.kind === "unsupported" && (tag.value ?? "").startsWith("@default"))
  );
  assert.deepEqual(broken, []);
});
