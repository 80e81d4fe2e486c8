/**
 * Text from a scanned image (package names, summaries) reaches the terminal: control characters
 * and bidi overrides could rewrite the screen or hide text, so they are shown as U+FFFD.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\uFFFD");
}

/** Cuts a cell to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export type Style = "bold" | "dim" | "red" | "boldRed" | "yellow" | "blue" | "green";

const SGR: Record<Style, [string, string]> = {
  bold: ["\x1b[1m", "\x1b[22m"],
  dim: ["\x1b[2m", "\x1b[22m"],
  red: ["\x1b[31m", "\x1b[39m"],
  boldRed: ["\x1b[1;31m", "\x1b[22;39m"],
  yellow: ["\x1b[33m", "\x1b[39m"],
  blue: ["\x1b[34m", "\x1b[39m"],
  green: ["\x1b[32m", "\x1b[39m"],
};

/** A painter that colours only when asked to (stdout is a TTY and NO_COLOR is unset). */
export function painter(color: boolean): (style: Style, text: string) => string {
  return color ? (style, text) => `${SGR[style][0]}${text}${SGR[style][1]}` : (_style, text) => text;
}

/** The default for `color`: a terminal that has not opted out (https://no-color.org). */
export function stdoutWantsColor(): boolean {
  return process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb";
}
