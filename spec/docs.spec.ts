import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The exported values of lib/index.ts (classes, functions, constants) with no `@example` in their TSDoc. */
function valuesWithoutExample(): string[] {
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
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const isValue =
      (symbol.flags &
        (ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.Variable)) !==
      0;
    if (!isValue) continue;
    const hasExample = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
    if (!hasExample) missing.push(exported.getName());
  }
  return missing.sort();
}

describe('documentation', function () {
  this.timeout(60000);

  it('gives every exported class, function and constant a TSDoc @example', function () {
    expect(valuesWithoutExample()).to.deep.equal([]);
  });
});
