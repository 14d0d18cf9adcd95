import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every export of lib/index.ts: its exported name, the symbol it stands for, and the checker. */
function publicExports(): { name: string; symbol: ts.Symbol; checker: ts.TypeChecker }[] {
  const program = ts.createProgram([`${root}lib/index.ts`], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
  });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(`${root}lib/index.ts`);
  if (index === undefined) throw new Error('lib/index.ts not found');
  const moduleSymbol = checker.getSymbolAtLocation(index);
  if (moduleSymbol === undefined) throw new Error('lib/index.ts is not a module');
  return checker.getExportsOfModule(moduleSymbol).map((exported) => ({
    name: exported.getName(),
    symbol: exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported,
    checker,
  }));
}

/** The exported values of lib/index.ts (classes, functions, constants) with no `@example` in their TSDoc. */
function valuesWithoutExample(): string[] {
  const missing: string[] = [];
  for (const { name, symbol, checker } of publicExports()) {
    const isValue =
      (symbol.flags &
        (ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.Variable)) !==
      0;
    if (!isValue) continue;
    const hasExample = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
    if (!hasExample) missing.push(name);
  }
  return missing.sort();
}

/**
 * The exports of lib/index.ts whose TSDoc has no `@group` named in typedoc.json's `groupOrder`,
 * as `name: groups`: typedoc would list them under a kind ("Interfaces") after the topics.
 */
function exportsOutsideTheGroups(): string[] {
  const config = JSON.parse(readFileSync(`${root}typedoc.json`, 'utf8')) as {
    groupOrder?: string[];
  };
  const groups = new Set((config.groupOrder ?? []).filter((g) => g !== '*'));
  expect(groups.size, "typedoc.json's groupOrder").to.be.greaterThan(5);
  return publicExports()
    .map(({ name, symbol, checker }) => ({
      name,
      tags: symbol
        .getJsDocTags(checker)
        .filter((tag) => tag.name === 'group')
        .map((tag) => ts.displayPartsToString(tag.text).trim()),
    }))
    .filter(({ tags }) => tags.length === 0 || tags.some((tag) => !groups.has(tag)))
    .map(({ name, tags }) => `${name}: ${tags.join(', ') || 'no @group'}`)
    .sort();
}

/**
 * The README's TypeScript blocks that are whole programs (their first line is an import or a
 * comment line followed by imports), compiled as a user's ESM app would be: strict, NodeNext,
 * with 'socketio-actors' resolved to lib/. Returns each diagnostic as `block N: message`. A
 * block that augments the module (`declare module 'socketio-actors'`, typed events) is a
 * program of its own: an augmentation is seen by every file of its program.
 */
function readmeProgramErrors(): string[] {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((code) => /^(\/\/[^\n]*\n)?import /.test(code));
  expect(blocks.length, 'README programs found').to.be.greaterThan(5);
  const files = blocks.map((code, i) => [`${root}readme-example-${i + 1}.ts`, code] as const);
  const augments = ([, code]: readonly [string, string]): boolean =>
    code.includes("declare module 'socketio-actors'");
  // The programs share what they read from disk (lib/, node_modules' types), parsed once.
  const parsed = new Map<string, ts.SourceFile | undefined>();
  return [
    ...programErrors(new Map(files.filter((file) => !augments(file))), parsed),
    ...files.filter(augments).flatMap((file) => programErrors(new Map([file]), parsed)),
  ];
}

/**
 * The diagnostics of one program made of `files` (name to code), see
 * {@link readmeProgramErrors}; `parsed` keeps the files read from disk for the next program.
 */
function programErrors(
  files: ReadonlyMap<string, string>,
  parsed: Map<string, ts.SourceFile | undefined>,
): string[] {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    paths: { 'socketio-actors': [`${root}lib/index.ts`] },
  };
  const disk = ts.createCompilerHost(options);
  const host: ts.CompilerHost = {
    ...disk,
    getSourceFile: (name, version, ...rest) => {
      const code = files.get(name);
      if (code !== undefined) return ts.createSourceFile(name, code, version);
      if (!parsed.has(name)) parsed.set(name, disk.getSourceFile(name, version, ...rest));
      return parsed.get(name);
    },
    fileExists: (name) => files.has(name) || disk.fileExists(name),
    readFile: (name) => files.get(name) ?? disk.readFile(name),
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) => {
      const where = d.file?.fileName.replace(root, '') ?? '';
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

/** The top-level folders of the repository a README path in backticks may start with. */
const REPOSITORY_FOLDERS = [
  'lib',
  'schedulers',
  'spec',
  'examples',
  'benchmarks',
  'scripts',
  '.ci',
];

/**
 * The files the README points at that are not in the repository: the targets of its relative
 * Markdown links and images (`[text](path)`, anchors dropped), and the paths in backticks
 * that start with one of {@link REPOSITORY_FOLDERS} or climb out of it (`../`). A glob
 * (`benchmarks/results/*.json`) needs the folder before its first `*`. Build output
 * (`dist/`, `docs/api/`) is not checked.
 */
function readmePathsMissing(readme: string): string[] {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] ?? '').split('#')[0] ?? '')
    .filter((target) => target !== '' && !/^[a-z][a-z+.-]*:/i.test(target));
  const folders = REPOSITORY_FOLDERS.map((f) => f.replace('.', '\\.')).join('|');
  const paths = [...readme.matchAll(new RegExp(`\`((?:${folders}|\\.\\.)/[^\`\\s]*)\``, 'g'))].map(
    (m) => m[1] ?? '',
  );
  return [...new Set([...links, ...paths])]
    .filter((path) => {
      const full = resolve(root, path.split('*')[0] ?? '');
      const inside = !relative(root, full).startsWith('..');
      return !inside || !existsSync(full);
    })
    .sort();
}

describe('documentation', function () {
  this.timeout(60000);

  it('gives every exported class, function and constant a TSDoc @example', function () {
    expect(valuesWithoutExample()).to.deep.equal([]);
  });

  it("puts every export in one of typedoc.json's groups (@group)", function () {
    expect(exportsOutsideTheGroups()).to.deep.equal([]);
  });

  it('links the README only to files in the repository', function () {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(readmePathsMissing(readme)).to.deep.equal([]);
    // The check itself: a link to a missing file, a path outside the repository and a missing
    // source file are each caught; links to the web and anchors are not paths.
    expect(
      readmePathsMissing(
        '[a](docs/NOPE.md) ![b](benchmarks/results/schedulers.svg) [c](#tests) ' +
          '[d](https://example.com/x.md) `../shared/DESIGN.md` `lib/nope.ts` `lib/errors.ts` ' +
          '`benchmarks/results/*.json`',
      ),
    ).to.deep.equal(['../shared/DESIGN.md', 'docs/NOPE.md', 'lib/nope.ts']);
  });

  it('gives README examples that are whole programs (they start with an import) that type-check', function () {
    expect(readmeProgramErrors()).to.deep.equal([]);
  });
});
