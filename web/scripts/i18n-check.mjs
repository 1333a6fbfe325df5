// Fails when a page could show a text that has no translation (issue 27):
//  1. every text in a template, every label-like attribute, and every text shown from an
//     expression in a template is marked for translation (i18n="@@area.key", i18n-title, …);
//  2. every sentence in the app's code is a $localize text;
//  3. no $localize text is made at module load, before main.ts has loaded the translations;
//  4. every marked text has its own id (`@@area.key`), and each language has a translation for
//     each id, in the file of its area (src/i18n/<language>/<area>.json), with the same
//     placeholders, and no translation is left over for an id that is gone.
// Run by `npm test`. `node scripts/i18n-check.mjs --no-extract` skips 4 (it needs a build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import * as ng from '@angular/compiler';
import ts from 'typescript';

const web = new URL('..', import.meta.url).pathname;
const app = join(web, 'src/app');
const LANGUAGES = ['de', 'es'];
const AREAS = readdirSync(join(web, 'src/i18n/de')).map((f) => f.replace(/\.json$/, ''));
// `data-label` names a table's column on a phone, where the stylesheet shows it beside each value.
const TRANSLATABLE_ATTRIBUTES = new Set(['title', 'placeholder', 'alt', 'aria-label', 'aria-description', 'aria-roledescription', 'aria-valuetext', 'aria-placeholder', 'label', 'data-label']);
const WORDS = /\p{L}{2,}/u;
const problems = [];

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(html|ts)$/.test(name) && !/\.(spec|testing)\.ts$/.test(name) && name !== 'api.generated.ts') yield path;
  }
}

function lineOf(text, offset) {
  return text.slice(0, offset).split('\n').length;
}

// ---- 1. templates ----------------------------------------------------------------------

/** The string literals an expression would show as they are (not those it compares or passes on). */
function shownLiterals(ast, out = []) {
  if (!ast) return out;
  if (ast instanceof ng.ASTWithSource) return shownLiterals(ast.ast, out);
  if (ast instanceof ng.LiteralPrimitive) {
    if (typeof ast.value === 'string' && WORDS.test(ast.value)) out.push(ast.value);
  } else if (ast instanceof ng.Conditional) {
    shownLiterals(ast.trueExp, out);
    shownLiterals(ast.falseExp, out);
  } else if (ast instanceof ng.Binary && ['+', '??', '||', '&&'].includes(ast.operation)) {
    shownLiterals(ast.left, out);
    shownLiterals(ast.right, out);
  } else if (ast instanceof ng.BindingPipe) {
    shownLiterals(ast.exp, out);
  } else if (ng.ParenthesizedExpression && ast instanceof ng.ParenthesizedExpression) {
    shownLiterals(ast.expression, out);
  } else if (ng.TemplateLiteral && ast instanceof ng.TemplateLiteral) {
    for (const e of ast.elements) if (WORDS.test(e.text)) out.push(e.text);
  }
  return out;
}

function checkTemplate(file, template, offset = 0, whole = template) {
  const parsed = ng.parseTemplate(template, file, { preserveWhitespaces: false, enableBlockSyntax: true, enableLetSyntax: true });
  for (const error of parsed.errors ?? []) problems.push(`${file}: cannot parse: ${error.msg}`);
  const where = (node) => `${relative(web, file)}:${lineOf(whole, offset + (node.sourceSpan?.start.offset ?? 0))}`;
  const isMessage = (meta) => meta?.constructor?.name === 'Message' && 'customId' in meta;
  const needsId = (node, meta) => {
    if (isMessage(meta) && !meta.customId) problems.push(`${where(node)}: i18n without an id (i18n="@@area.key")`);
  };

  function walk(nodes, inMessage) {
    for (const node of nodes ?? []) {
      if (node instanceof ng.TmplAstText) {
        if (!inMessage && WORDS.test(node.value)) problems.push(`${where(node)}: text not marked for translation: ${JSON.stringify(node.value.trim())}`);
        continue;
      }
      if (node instanceof ng.TmplAstBoundText) {
        const interpolation = node.value instanceof ng.ASTWithSource ? node.value.ast : node.value;
        if (!inMessage && interpolation?.strings?.some((s) => WORDS.test(s))) {
          problems.push(`${where(node)}: text not marked for translation: ${JSON.stringify(interpolation.strings.join('…').trim())}`);
        }
        for (const e of interpolation?.expressions ?? []) {
          for (const literal of shownLiterals(e)) problems.push(`${where(node)}: text in an expression: ${JSON.stringify(literal)}`);
        }
        continue;
      }
      if (node instanceof ng.TmplAstIcu) continue;
      let own = inMessage;
      if (node instanceof ng.TmplAstElement || node instanceof ng.TmplAstTemplate) {
        needsId(node, node.i18n);
        own = inMessage || isMessage(node.i18n);
        for (const attribute of node.attributes ?? []) {
          if (TRANSLATABLE_ATTRIBUTES.has(attribute.name) && WORDS.test(attribute.value)) {
            if (!isMessage(attribute.i18n)) problems.push(`${where(attribute)}: attribute ${attribute.name} not marked (i18n-${attribute.name}="@@area.key"): ${JSON.stringify(attribute.value)}`);
            else needsId(attribute, attribute.i18n);
          }
        }
        for (const input of node.inputs ?? []) {
          if (TRANSLATABLE_ATTRIBUTES.has(input.name)) {
            for (const literal of shownLiterals(input.value)) problems.push(`${where(input)}: text in a binding of ${input.name}: ${JSON.stringify(literal)}`);
          }
        }
      }
      for (const key of ['children', 'branches', 'groups', 'cases', 'empty', 'placeholder', 'loading', 'error']) {
        const value = node[key];
        if (Array.isArray(value)) walk(value, own);
        else if (value && typeof value === 'object') walk([value], own);
      }
    }
  }
  walk(parsed.nodes, false);
}

// ---- 2. code ---------------------------------------------------------------------------

/** A text a person would read: two words or more, or a capitalised word that ends a sentence. */
const SENTENCE = /^\s*\p{Lu}[\p{Ll}'’]+(?:[\s,]+[\p{L}'’-]+)+|[\p{L}]{2,}[.!?]$/u;
/** Properties whose value is read by a person, whatever it looks like. */
const SHOWN_PROPERTIES = /^(label|title|heading|text|message|description|placeholder|summary|confirm\w*|hint|name)$/;
const NOT_SHOWN_PROPERTIES = new Set(['selector', 'templateUrl', 'styleUrl', 'styleUrls', 'styles', 'host', 'providedIn']);

function checkCode(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const shown = (node) => {
    for (let up = node.parent; up; up = up.parent) {
      if (ts.isTaggedTemplateExpression(up) && up.tag.getText() === '$localize') return false;
      if (ts.isImportDeclaration(up) || ts.isExportDeclaration(up)) return false;
      if (ts.isCallExpression(up) && /^console\./.test(up.expression.getText())) return false;
      if (ts.isNewExpression(up) && /Error$/.test(up.expression.getText())) return false;
      if (ts.isPropertyAssignment(up) && NOT_SHOWN_PROPERTIES.has(up.name.getText())) return false;
      if (ts.isPropertyAssignment(up) && up.name.getText() === 'template') return false; // checked as a template
    }
    return true;
  };
  const labelled = (node) =>
    WORDS.test(node.text) && /^\p{Lu}/u.test(node.text) && ts.isPropertyAssignment(node.parent) && node.parent.initializer === node && SHOWN_PROPERTIES.test(node.parent.name.getText());
  const atModuleLoad = (node) => {
    for (let up = node.parent; up; up = up.parent) {
      if (ts.isFunctionLike(up) || ts.isPropertyDeclaration(up) || ts.isClassStaticBlockDeclaration(up)) return false;
    }
    return true;
  };
  const visit = (node) => {
    if (ts.isTaggedTemplateExpression(node) && node.tag.getText() === '$localize' && atModuleLoad(node)) {
      problems.push(`${relative(web, file)}:${lineOf(text, node.getStart())}: $localize at module load runs before the translations are loaded (main.ts); make it a function`);
    }
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'template' && ts.isNoSubstitutionTemplateLiteral(node.initializer)) {
      checkTemplate(file, node.initializer.text, node.initializer.getStart() + 1, text);
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) && (SENTENCE.test(node.text) || labelled(node)) && shown(node)) {
      problems.push(`${relative(web, file)}:${lineOf(text, node.getStart())}: text in code not marked ($localize\`:@@area.key:…\`): ${JSON.stringify(node.text)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

for (const file of sources(app)) {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.html')) checkTemplate(file, text);
  else checkCode(file, text);
}

// ---- 4. ids and translations -----------------------------------------------------------

const placeholders = (message) => [...String(message).matchAll(/\{\$([A-Z0-9_]+)\}|\{(VAR_[A-Z0-9_]+)/g)].map((m) => m[1] ?? m[2]).sort().join(',');

if (!process.argv.includes('--no-extract')) {
  const out = mkdtempSync(join(tmpdir(), 'i18n-'));
  try {
    execFileSync(join(web, 'node_modules/.bin/ng'), ['extract-i18n', '--output-path', out, '--progress=false'], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] });
    const { translations: english } = JSON.parse(readFileSync(join(out, 'messages.json'), 'utf8'));
    const ids = Object.keys(english);
    for (const id of ids) {
      const area = id.split('.')[0];
      if (!id.includes('.') || !AREAS.includes(area)) problems.push(`id ${id}: not of the form area.key with area one of ${AREAS.join(', ')} ("${english[id]}")`);
    }
    for (const language of LANGUAGES) {
      const known = new Set();
      for (const area of AREAS) {
        const file = join('src/i18n', language, `${area}.json`);
        const translated = JSON.parse(readFileSync(join(web, file), 'utf8'));
        for (const [id, text] of Object.entries(translated)) {
          known.add(id);
          if (!(id in english)) problems.push(`${file}: ${id} is translated but no longer in the app`);
          else if (id.split('.')[0] !== area) problems.push(`${file}: ${id} belongs in ${id.split('.')[0]}.json`);
          else if (typeof text !== 'string' || !text.trim()) problems.push(`${file}: ${id} is empty`);
          else if (placeholders(text) !== placeholders(english[id])) problems.push(`${file}: ${id} has placeholders ${placeholders(text)}, the English ${placeholders(english[id])}`);
        }
      }
      for (const id of ids) if (!known.has(id)) problems.push(`src/i18n/${language}: no translation for ${id} ("${english[id]}")`);
    }
    console.log(`i18n: ${ids.length} texts, each translated into ${LANGUAGES.join(' and ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`i18n: ${problems.length} problem(s)`);
  process.exit(1);
}
