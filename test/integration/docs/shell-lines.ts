/**
 * The shell commands a Markdown page shows, as a reader would paste them, taken apart into simple
 * commands (the words of one program call) that commands.test.ts checks against something real.
 *
 * Which lines are commands (the rule the test documents):
 * - only fenced blocks tagged `sh`, `bash` or `console`, or untagged;
 * - in `sh` and `bash` blocks every line is a command except blank lines and comments (`# …`);
 * - in `console` and untagged blocks only a line starting with a `$ ` prompt is a command: the rest is output
 *   (audit reports, verify runs, diagrams);
 * - a line ending in `\`, or with a quote left open, continues on the next.
 */

export interface ShellLine {
  /** The page, relative to the repository. */
  readonly file: string;
  /** The line number of the command's first line. */
  readonly line: number;
  /** The command as shown, continuation lines joined. */
  readonly text: string;
}

const FENCE = /^(\s*)```([\w-]*)\s*$/;
const SHELL_BLOCKS = new Set(['sh', 'bash', 'console', '']);
const EVERY_LINE_BLOCKS = new Set(['sh', 'bash']);

/**
 * Placeholders (`<stack>`, `<the pool's id>`) become one plain word, and a synopsis's optional groups
 * (`[--auth basic|post]`) their words, so neither reads as a redirect or a pipe.
 */
const normalise = (text: string) =>
  text.replace(/<[A-Za-z][^<>\n]*>/g, 'PLACEHOLDER').replace(/\[(--[^\]]*)\]/g, (_, group: string) => group.replaceAll('|', ' '));

/** Whether a quote is still open at the end of the text (placeholders and comments aside, escapes honoured). */
const quoteLeftOpen = (raw: string) => {
  const text = normalise(raw);
  let quote: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quote === '"' && char === '\\') index++;
    else if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '\\') index++;
    else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(text[index - 1] as string))) index = text.indexOf('\n', index) >>> 0;
  }
  return quote !== undefined;
};

/** Every shell command of a Markdown page, by the rule above. */
export const shellLines = (file: string, markdown: string): ShellLine[] => {
  const found: ShellLine[] = [];
  let block: { language: string; indent: number } | undefined;
  let pending: { line: number; text: string } | undefined;
  markdown.split('\n').forEach((raw, index) => {
    const fence = FENCE.exec(raw);
    if (fence) {
      // A command still open at the block's end is kept as it is: checking it fails, rather than skipping it.
      if (pending) found.push({ file, ...pending });
      block = block ? undefined : { language: fence[2] ?? '', indent: fence[1]?.length ?? 0 };
      pending = undefined;
      return;
    }
    if (!block || !SHELL_BLOCKS.has(block.language)) return;
    const text = raw.slice(Math.min(block.indent, raw.length - raw.trimStart().length));
    if (pending) pending.text += `\n${text}`;
    else if (EVERY_LINE_BLOCKS.has(block.language)) {
      if (text.trim() === '' || text.trimStart().startsWith('#')) return;
      pending = { line: index + 1, text };
    } else {
      if (!text.startsWith('$ ')) return;
      pending = { line: index + 1, text: text.slice(2) };
    }
    if (pending.text.endsWith('\\') || quoteLeftOpen(pending.text)) return;
    found.push({ file, line: pending.line, text: pending.text.replace(/\s*\\\n\s*/g, ' ') });
    pending = undefined;
  });
  return found;
};

/** One program call: its words (quotes removed), and the command substitutions (`$(…)`) inside them. */
export interface SimpleCommand {
  readonly words: string[];
  readonly substitutions: string[];
}

/** The index of the `'` closing the one at `start`. */
const closingQuote = (text: string, start: number) => {
  const end = text.indexOf("'", start + 1);
  if (end < 0) throw new Error(`unclosed ' in: ${text}`);
  return end;
};

/** The index after the `"…"` opening at `start`; a `$(…)` inside may hold quotes of its own. */
const doubleQuoteEnd = (text: string, start: number): number => {
  for (let index = start + 1; index < text.length; ) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === '$' && text[index + 1] === '(') index = substitutionEnd(text, index);
    else if (char === '"') return index + 1;
    else index++;
  }
  throw new Error(`unclosed " in: ${text}`);
};

/** The index after the `$(…)` opening at `start` (the `$`), quotes and nested substitutions skipped. */
const substitutionEnd = (text: string, start: number): number => {
  let depth = 1;
  for (let index = start + 2; index < text.length; ) {
    const char = text[index];
    if (char === "'") index = closingQuote(text, index) + 1;
    else if (char === '"') index = doubleQuoteEnd(text, index);
    else if (char === '\\') index += 2;
    else if (char === '$' && text[index + 1] === '(') index = substitutionEnd(text, index);
    else {
      if (char === '(') depth++;
      else if (char === ')' && --depth === 0) return index + 1;
      index++;
    }
  }
  throw new Error(`unclosed $( in: ${text}`);
};

/** The line without its trailing comment (a `#` starting a word outside quotes). */
export const withoutComment = (raw: string) => {
  const line = normalise(raw);
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (char === "'") index = closingQuote(line, index);
    else if (char === '"') index = doubleQuoteEnd(line, index) - 1;
    else if (char === '$' && line[index + 1] === '(') index = substitutionEnd(line, index) - 1;
    else if (char === '\\') index++;
    else if (char === '#' && (index === 0 || /\s/.test(line[index - 1] as string))) return line.slice(0, index).trimEnd();
  }
  return line;
};

/** Splits a command line into simple commands at `|`, `||`, `&&` and `;`; redirections are dropped. */
export const simpleCommands = (line: string): SimpleCommand[] => {
  const text = normalise(line);
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let substitutions: string[] = [];
  let word: string | undefined;
  let redirect = false;
  const endWord = () => {
    if (word !== undefined && !redirect) words.push(word);
    else if (word !== undefined) redirect = false;
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push({ words, substitutions });
    words = [];
    substitutions = [];
  };
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char === '$' && text[index + 1] === '(') {
      const end = substitutionEnd(text, index);
      substitutions.push(text.slice(index + 2, end - 1));
      word = (word ?? '') + text.slice(index, end);
      index = end - 1;
    } else if (char === "'") {
      const end = closingQuote(text, index);
      word = (word ?? '') + text.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let value = '';
      for (index++; index < text.length && text[index] !== '"'; index++) {
        if (text[index] === '$' && text[index + 1] === '(') {
          const end = substitutionEnd(text, index);
          substitutions.push(text.slice(index + 2, end - 1));
          value += text.slice(index, end);
          index = end - 1;
        } else if (text[index] === '\\') value += text[++index];
        else value += text[index];
      }
      word = (word ?? '') + value;
    } else if (char === '\\') word = (word ?? '') + (text[++index] ?? '');
    else if (char === '#' && word === undefined) break;
    else if (/\s/.test(char)) endWord();
    else if (char === '|' || char === ';' || (char === '&' && text[index + 1] === '&')) {
      endCommand();
      if (text[index + 1] === char) index++;
    } else if (char === '>' || char === '<') {
      // `> file`, `2>&1`: what a command writes where is no part of the command.
      if (word !== undefined && /^\d$/.test(word)) word = undefined;
      endWord();
      if (text[index + 1] === '&') index += 2;
      else redirect = true;
      if (text[index + 1] === '>') index++;
    } else word = (word ?? '') + char;
  }
  endCommand();
  return commands;
};
