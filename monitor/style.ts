/** ANSI styling that can be switched off (tests, NO_COLOR, pipes): the same text either way. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  /** The slowest worker's row. */
  highlight(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  accent(text: string): string;
}

const wrap = (code: string) => (text: string): string => (text ? `\x1b[${code}m${text}\x1b[0m` : text);
const same = (text: string): string => text;

export const colorStyle: Style = {
  bold: wrap('1'), dim: wrap('2'), highlight: wrap('1;33'), good: wrap('32'), bad: wrap('1;31'), warn: wrap('33'), accent: wrap('36'),
};

export const plainStyle: Style = { bold: same, dim: same, highlight: same, good: same, bad: same, warn: same, accent: same };
