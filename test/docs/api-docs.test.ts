/**
 * The public API documents itself, and the hand-written docs keep up with it:
 * - every name exported from the package's entry points (src/index.ts: `wts-session`,
 *   src/mock.ts: `wts-session/mock`), read with the TypeScript compiler API, has TSDoc: a summary;
 *   for a function, each overload's `@param` for every parameter and `@returns` unless it returns
 *   nothing; for a class or an interface, every public member too (a member may inherit its comment
 *   from the interface it implements, as an editor shows it); the main functions an `@example`;
 * - every exported name is mentioned in the hand-written docs (README.md, docs/*.md);
 * - every public method of `Wts` is named in docs/createWts.md (`wts.method`), and every public
 *   method of `WtsServer` has a row in docs/openServer.md's table of methods (`method(...)`): the
 *   methods read from the classes, so a new one cannot be left out of its page;
 * - every error code (WTS_ERROR_CODES) is in every error table the docs keep (a table with a `code`
 *   column holding `E_...` codes), with its class, and no table lists a code that does not exist.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { reviveWtsError, WTS_ERROR_CODES } from '../../src/index';
import { ROOT } from '../helpers';

const ENTRY_POINTS = { 'wts-session': 'src/index.ts', 'wts-session/mock': 'src/mock.ts' } as const;

/** The functions whose docs must show an example. */
const WITH_EXAMPLE = new Set([
  'logoff',
  'logoffAll',
  'listSessions',
  'findSession',
  'disconnect',
  'sendMessage',
  'openServer',
  'createWts',
  'watchSessions',
  'createMockApi',
]);

/** Generated pages: not hand-written, so they do not count as mentions. */
const GENERATED_DOCS = new Set(['performance.md', 'windows-facts.md']);

interface Problem {
  readonly where: string;
  readonly problem: string;
}

function loadProgram(): ts.Program {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return ts.createProgram(
    Object.values(ENTRY_POINTS).map((p) => join(ROOT, p)),
    { ...parsed.options, noEmit: true },
  );
}

const program = loadProgram();
const checker = program.getTypeChecker();

/** Every public name of an entry point, resolved to its declaration's symbol. */
function exportsOf(entry: string): Array<{ name: string; symbol: ts.Symbol }> {
  const sourceFile = program.getSourceFile(join(ROOT, entry));
  if (!sourceFile) throw new Error(`${entry} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) throw new Error(`${entry} has no module symbol`);
  return checker.getExportsOfModule(moduleSymbol).map((s) => ({
    name: s.name,
    symbol: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s,
  }));
}

const text = (parts: readonly ts.SymbolDisplayPart[]) => ts.displayPartsToString([...parts]).trim();

/** The summary an editor shows for a symbol (its own comment, or the one it inherits). */
function summaryOf(symbol: ts.Symbol): string {
  return text(symbol.getDocumentationComment(checker));
}

function isInternal(symbol: ts.Symbol): boolean {
  return symbol.getJsDocTags(checker).some((t) => t.name === 'internal');
}

function isNonPublic(declaration: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(declaration);
  const name = ts.getNameOfDeclaration(declaration);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || (name !== undefined && ts.isPrivateIdentifier(name));
}

/** The JSDoc tags written on one declaration (not inherited). */
function ownTags(declaration: ts.Node): readonly ts.JSDocTag[] {
  return ts.getJSDocTags(declaration);
}

function ownSummary(declaration: ts.Node): string {
  return ts
    .getJSDocCommentsAndTags(declaration)
    .filter(ts.isJSDoc)
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join('')
    .trim();
}

function returnsNothing(signature: ts.Signature): boolean {
  const type = checker.getReturnTypeOfSignature(signature);
  if (type.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) return true;
  const awaited = checker.getAwaitedType(type);
  return awaited !== undefined && awaited !== type && (awaited.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
}

/**
 * A function-like's documented signatures: @param for each parameter, @returns unless it returns
 * nothing. `tags` are the tags that apply (own, or inherited for a member without its own).
 */
function checkSignature(where: string, declaration: ts.SignatureDeclaration, tags: readonly ts.JSDocTagInfo[] | readonly ts.JSDocTag[], problems: Problem[]): void {
  const names = new Set<string>();
  let hasReturns = false;
  for (const tag of tags) {
    if ('tagName' in tag) {
      if (ts.isJSDocParameterTag(tag)) names.add(tag.name.getText());
      if (tag.tagName.text === 'returns') hasReturns = true;
    } else {
      if (tag.name === 'param') names.add(text(tag.text ?? []).split(/\s/)[0] ?? '');
      if (tag.name === 'returns') hasReturns = true;
    }
  }
  for (const parameter of declaration.parameters) {
    const name = parameter.name.getText();
    if (!names.has(name)) problems.push({ where, problem: `no @param for '${name}'` });
  }
  const signature = checker.getSignatureFromDeclaration(declaration);
  if (signature && !ts.isConstructorDeclaration(declaration) && !returnsNothing(signature) && !hasReturns) {
    problems.push({ where, problem: 'no @returns' });
  }
}

/** The declarations that are a function's public signatures: its overloads, or its one body. */
function publicSignatures<T extends ts.SignatureDeclaration & { body?: ts.Node | undefined }>(declarations: readonly T[]): T[] {
  const overloads = declarations.filter((d) => d.body === undefined);
  return overloads.length > 0 ? overloads : [...declarations];
}

function checkFunction(where: string, symbol: ts.Symbol, problems: Problem[], needsExample: boolean): void {
  const declarations = (symbol.declarations ?? []).filter(ts.isFunctionDeclaration);
  const signatures = publicSignatures(declarations);
  signatures.forEach((declaration, i) => {
    const at = signatures.length > 1 ? `${where} (overload ${i + 1})` : where;
    if (ownSummary(declaration) === '') problems.push({ where: at, problem: 'no summary' });
    checkSignature(at, declaration, ownTags(declaration), problems);
  });
  if (needsExample && !signatures.some((d) => ownTags(d).some((t) => t.tagName.text === 'example'))) {
    problems.push({ where, problem: 'no @example' });
  }
}

/** A method's signatures: its own docs where it has them, else the ones it inherits. */
function checkMethod(where: string, member: ts.Symbol, problems: Problem[]): void {
  const declarations = (member.declarations ?? []).filter(
    (d): d is ts.MethodDeclaration | ts.MethodSignature => ts.isMethodDeclaration(d) || ts.isMethodSignature(d),
  );
  const signatures = publicSignatures(declarations as Array<ts.MethodDeclaration | ts.MethodSignature>);
  signatures.forEach((declaration, i) => {
    const at = signatures.length > 1 ? `${where} (overload ${i + 1})` : where;
    const own = ownTags(declaration);
    const documented = ownSummary(declaration) !== '' || own.length > 0;
    if (!documented && i > 0) return; // an editor shows the first overload's comment
    checkSignature(at, declaration, documented ? own : member.getJsDocTags(checker), problems);
  });
}

/** Every public member of a class (instance and static) or interface, each documented. */
function checkMembers(where: string, symbol: ts.Symbol, problems: Problem[]): void {
  const isClass = (symbol.flags & ts.SymbolFlags.Class) !== 0;
  const instance = checker.getDeclaredTypeOfSymbol(symbol);
  const members = [...checker.getPropertiesOfType(instance)];
  if (isClass) {
    const statics = checker.getTypeOfSymbol(symbol);
    members.push(...checker.getPropertiesOfType(statics).filter((m) => m.name !== 'prototype'));
  }
  for (const member of members) {
    const declarations = member.declarations ?? [];
    // Error's own `name`, `message`, `stack`, `cause` and the like come from the standard library.
    if (declarations.length === 0 || declarations.every((d) => d.getSourceFile().isDeclarationFile)) continue;
    if (declarations.some(isNonPublic) || isInternal(member)) continue;
    const at = `${where}.${member.name}`;
    if (summaryOf(member) === '') problems.push({ where: at, problem: 'no summary' });
    if (member.flags & ts.SymbolFlags.Method) checkMethod(at, member, problems);
  }
  if (isClass) {
    for (const declaration of symbol.declarations ?? []) {
      if (!ts.isClassDeclaration(declaration)) continue;
      const constructors = publicSignatures(declaration.members.filter(ts.isConstructorDeclaration)).filter((c) => !isNonPublic(c));
      for (const c of constructors) {
        if (ownSummary(c) === '') problems.push({ where: `${where}.constructor`, problem: 'no summary' });
        checkSignature(`${where}.constructor`, c, ownTags(c), problems);
      }
    }
  }
}

function apiProblems(): Problem[] {
  const problems: Problem[] = [];
  for (const [pkg, entry] of Object.entries(ENTRY_POINTS)) {
    for (const { name, symbol } of exportsOf(entry)) {
      const where = `${pkg}: ${name}`;
      if (summaryOf(symbol) === '') {
        problems.push({ where, problem: 'no TSDoc summary' });
        continue;
      }
      if (symbol.flags & ts.SymbolFlags.Function) checkFunction(where, symbol, problems, WITH_EXAMPLE.has(name));
      else if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) checkMembers(where, symbol, problems);
      if (WITH_EXAMPLE.has(name) && !(symbol.flags & ts.SymbolFlags.Function)) {
        problems.push({ where, problem: 'expected a function' });
      }
    }
  }
  return problems;
}

function handWrittenDocs(): Array<{ file: string; text: string }> {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md') && !GENERATED_DOCS.has(f))
    .map((f) => ({ file: `docs/${f}`, text: readFileSync(join(ROOT, 'docs', f), 'utf8') }));
  return [{ file: 'README.md', text: readFileSync(join(ROOT, 'README.md'), 'utf8') }, ...docs];
}

/** The markdown tables of a document: each a list of rows, each a list of cells. */
function tables(markdown: string): string[][][] {
  const result: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line
        .replace(/^\|/, '')
        .replace(/\|\s*$/, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
      if (!current) result.push((current = []));
      if (!cells.every((c) => /^:?-+:?$/.test(c))) current.push(cells);
    } else {
      current = undefined;
    }
  }
  return result;
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

/** The docs' error tables: a `code` column with E_... codes; each row's class and code. */
function errorTables(): Array<{ file: string; rows: Array<{ className: string | undefined; code: string }> }> {
  const found: Array<{ file: string; rows: Array<{ className: string | undefined; code: string }> }> = [];
  for (const { file, text: markdown } of handWrittenDocs()) {
    for (const table of tables(markdown)) {
      const [header, ...rows] = table;
      if (!header) continue;
      const codeAt = header.findIndex((c) => unquote(c).toLowerCase() === 'code');
      const classAt = header.findIndex((c) => unquote(c).toLowerCase() === 'class');
      if (codeAt < 0 || !rows.some((r) => /^E_[A-Z0-9_]+$/.test(unquote(r[codeAt] ?? '')))) continue;
      found.push({
        file,
        rows: rows.map((r) => ({ code: unquote(r[codeAt] ?? ''), className: classAt < 0 ? undefined : unquote(r[classAt] ?? '') })),
      });
    }
  }
  return found;
}

const format = (problems: readonly Problem[]) => problems.map((p) => `${p.where}: ${p.problem}`);

describe('the public API documents itself', () => {
  test('the entry points export what the test expects to read', () => {
    const names = exportsOf(ENTRY_POINTS['wts-session']).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['logoff', 'Wts', 'WtsError', 'Session', 'LogoffOutcome']));
    expect(exportsOf(ENTRY_POINTS['wts-session/mock']).map((e) => e.name)).toEqual(expect.arrayContaining(['createMockApi', 'Farm']));
  });

  test('every export, and every public member of its classes and interfaces, has TSDoc', () => {
    expect(format(apiProblems())).toEqual([]);
  });

  test('every exported name is mentioned in the hand-written docs (README.md, docs/*.md)', () => {
    const docs = handWrittenDocs().map((d) => d.text).join('\n');
    const missing = Object.entries(ENTRY_POINTS).flatMap(([pkg, entry]) =>
      exportsOf(entry)
        .map((e) => e.name)
        .filter((name) => !new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(docs))
        .map((name) => `${pkg}: ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

/**
 * The public methods of an exported class (inherited ones included), as written in code:
 * `listSessions`, `[Symbol.asyncDispose]`.
 */
function publicMethodsOf(entry: string, className: string): string[] {
  const found = exportsOf(entry).find((e) => e.name === className);
  if (!found || !(found.symbol.flags & ts.SymbolFlags.Class)) throw new Error(`${entry} exports no class ${className}`);
  return checker
    .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(found.symbol))
    .filter((m) => (m.flags & ts.SymbolFlags.Method) !== 0 && !isInternal(m))
    .filter((m) => {
      const declarations = m.declarations ?? [];
      return declarations.length > 0 && !declarations.some(isNonPublic) && !declarations.every((d) => d.getSourceFile().isDeclarationFile);
    })
    .map((m) => {
      const name = m.declarations?.[0] && ts.getNameOfDeclaration(m.declarations[0]);
      return name && ts.isComputedPropertyName(name) ? `[${name.expression.getText()}]` : m.name;
    })
    .sort();
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the pages of Wts and WtsServer list every public method', () => {
  const wtsMethods = publicMethodsOf(ENTRY_POINTS['wts-session'], 'Wts');
  const serverMethods = publicMethodsOf(ENTRY_POINTS['wts-session'], 'WtsServer');

  test('the methods are read from the classes', () => {
    expect(wtsMethods).toEqual(expect.arrayContaining(['listSessions', 'logoff', 'openServer', 'watchSessions']));
    expect(serverMethods).toEqual(expect.arrayContaining(['listSessions', 'logoff', 'close', '[Symbol.asyncDispose]']));
    expect(serverMethods).not.toContain('openServer');
  });

  test('docs/createWts.md names every method of Wts (`wts.method`)', () => {
    const page = readFileSync(join(ROOT, 'docs', 'createWts.md'), 'utf8');
    expect(wtsMethods.filter((m) => !new RegExp(`\`wts\\.${escapeRegExp(m)}\``).test(page))).toEqual([]);
  });

  test("docs/openServer.md's table has a row for every method of WtsServer", () => {
    const page = readFileSync(join(ROOT, 'docs', 'openServer.md'), 'utf8');
    const table = tables(page).find((t) => t[0]?.[0] === 'method');
    expect(table).toBeDefined();
    const rows = (table ?? []).slice(1).map((r) => /^`([^`(]+)\(/.exec(r[0] ?? '')?.[1]);
    expect(serverMethods.filter((m) => !rows.includes(m))).toEqual([]);
    expect(rows.filter((m) => m === undefined || !serverMethods.includes(m))).toEqual([]);
  });
});

describe('the error tables', () => {
  const found = errorTables();

  test('docs/errors.md and the README each keep one', () => {
    expect(found.map((t) => t.file)).toEqual(expect.arrayContaining(['docs/errors.md', 'README.md']));
  });

  test.each(found.map((t, i) => [t.file, i] as const))('%s (table %#) lists every error code, each with its class', (_file, i) => {
    const table = found[i] as (typeof found)[number];
    const codes = table.rows.map((r) => r.code);
    expect(WTS_ERROR_CODES.filter((c) => !codes.includes(c))).toEqual([]);
    // docs/json.md's table also lists the codes only the commands report (src/cli).
    const extra = table.file === 'docs/json.md' ? ['E_USAGE', 'E_CANCELLED', 'E_NOT_FOUND', 'E_SIMULATED_FARM', 'E_UNEXPECTED'] : [];
    expect(codes.filter((c) => !(WTS_ERROR_CODES as readonly string[]).includes(c) && !extra.includes(c))).toEqual([]);
    for (const row of table.rows) {
      if (row.className === undefined) continue;
      expect(`${row.code}: ${row.className}`).toBe(`${row.code}: ${reviveWtsError({ code: row.code, message: '' }).constructor.name}`);
    }
  });
});
