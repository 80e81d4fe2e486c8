import type { ContentFinding } from "../../model/content.js";
import type { ContentData } from "./content-data.js";
import { STANDARD_IMAGE } from "./hive-persistence.js";

export type ScheduledTask = Extract<ContentData, { kind: "scheduled-task" }>;

/** A task definition as the Task Scheduler stores it: one XML file per task under System32\Tasks. */
const TASK_FILE = /^(?:Files\/)?Windows\/System32\/Tasks\/(.+)$/i;
/** Task files are a few kB; a larger one is not read (and said so). */
export const MAX_TASK_BYTES = 1024 * 1024;
const MAX_ACTIONS = 32;
const MAX_TEXT = 2048;

/** The task's name (its path under System32\Tasks) when `path` is a task definition, else undefined. */
export function taskName(path: string): string | undefined {
  return TASK_FILE.exec(path)?.[1];
}

/** Task Scheduler writes UTF-16LE with a BOM; files copied in by hand may be UTF-8. */
function decode(content: Buffer): string {
  if (content[0] === 0xff && content[1] === 0xfe) return content.subarray(2).toString("utf16le");
  if (content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf)
    return content.subarray(3).toString("utf8");
  return content[1] === 0 ? content.toString("utf16le") : content.toString("utf8");
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
function unescapeXml(text: string): string {
  return text
    .replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|(amp|lt|gt|quot|apos));/gi, (whole, hex, dec, name) => {
      if (name) return ENTITIES[name.toLowerCase()] ?? whole;
      const code = hex ? Number.parseInt(hex, 16) : Number(dec);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    })
    .trim()
    .slice(0, MAX_TEXT);
}

/** The text of each `<name>…</name>` in `xml` (no nesting of the same name in the task schema). */
function elements(xml: string, name: string, max: number): string[] {
  const out: string[] = [];
  const re = new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${name}\\s*>`, "g");
  for (const m of xml.matchAll(re)) {
    out.push(m[1]!);
    if (out.length >= max) break;
  }
  return out;
}

const TRIGGERS = [
  "LogonTrigger",
  "BootTrigger",
  "TimeTrigger",
  "CalendarTrigger",
  "EventTrigger",
  "IdleTrigger",
  "RegistrationTrigger",
  "SessionStateChangeTrigger",
];

/**
 * The few elements of a task definition that say what it runs and when (Microsoft's Task Scheduler
 * schema): each `Exec` action's `Command` and `Arguments`, `Settings/Hidden`, the trigger kinds and
 * the principal. A bounded scan for those elements, not a general XML parser: a file that is no task
 * XML is an error message, never a crash.
 */
export function readScheduledTask(name: string, content: Buffer): ScheduledTask | { error: string } {
  if (content.length > MAX_TASK_BYTES)
    return { error: `task ${name} is ${content.length} bytes; at most ${MAX_TASK_BYTES} are read` };
  const xml = decode(content);
  if (!/<(?:\w+:)?Task[\s>]/.test(xml))
    return { error: `task ${name} is not a Task Scheduler XML definition` };
  const actions = elements(xml, "Exec", MAX_ACTIONS).map((exec) => {
    const command = unescapeXml(elements(exec, "Command", 1)[0] ?? "");
    const args = elements(exec, "Arguments", 1)[0];
    return { command, ...(args !== undefined ? { arguments: unescapeXml(args) } : {}) };
  });
  const triggersXml = elements(xml, "Triggers", 1)[0] ?? "";
  const triggers = TRIGGERS.filter((t) => new RegExp(`<(?:\\w+:)?${t}[\\s/>]`).test(triggersXml));
  const settings = elements(xml, "Settings", 1)[0] ?? "";
  const hidden = /^true$/i.test(unescapeXml(elements(settings, "Hidden", 1)[0] ?? ""));
  const user = elements(xml, "UserId", 1)[0];
  return {
    kind: "scheduled-task",
    name,
    actions: actions.filter((a) => a.command !== ""),
    triggers,
    hidden,
    ...(user !== undefined ? { runAs: unescapeXml(user) } : {}),
  };
}

// an argument that names a file somewhere, a share or a URL; encoded PowerShell hides its command
const ARG_PATH = /"?((?:[A-Z]:|%\w+%)\\[^"\s]+)/gi;
const SUSPICIOUS_ARGUMENT = [
  [/\\\\[\w.-]+\\/, "names a network share"],
  [/\bhttps?:\/\//i, "names a URL"],
  [/(?:^|\s)[-/]e(?:c|n[a-z]*)?\s+[A-Za-z0-9+/=]{16,}/i, "runs an encoded PowerShell command"],
] as const;

// Defender updates its platform under ProgramData; Windows' own tasks run it from there
const DEFENDER_PLATFORM =
  /^"?(?:[A-Z]:\\ProgramData|%ProgramData%)\\Microsoft\\Windows Defender\\Platform\\/i;
const standard = (path: string) => STANDARD_IMAGE.test(path) || DEFENDER_PLATFORM.test(path);

/** Why a task is a persistence entry worth a look, or nothing for Windows' own kind of task. */
export function judgeTask(task: ScheduledTask): string[] {
  const reasons: string[] = [];
  for (const { command, arguments: args = "" } of task.actions) {
    // a bare name runs through PATH (System32 first), as Windows' own tasks do
    const bare = !/[\\/%]/.test(command);
    if (!bare && !standard(command)) reasons.push(`runs ${command}, outside System32 and Program Files`);
    for (const m of args.matchAll(ARG_PATH))
      if (!standard(m[1]!)) reasons.push(`its arguments name ${m[1]}, outside System32 and Program Files`);
    for (const [re, why] of SUSPICIOUS_ARGUMENT) if (re.test(args)) reasons.push(`its arguments ${why}`);
  }
  return [...new Set(reasons)];
}

/** The image's scheduled tasks as the layers leave them, judged; what each runs, when, and as whom. */
export function scheduledTaskFindings(
  tasks: readonly { layer: string; path: string; sha256?: string; task: ScheduledTask }[],
): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const { layer, path, sha256, task } of tasks) {
    const reasons = judgeTask(task);
    if (reasons.length === 0) continue;
    const when = task.triggers.length > 0 ? task.triggers.join(", ") : "no trigger (run on demand)";
    out.push({
      rule: "persistence/windows-scheduled-task",
      category: "persistence",
      confidence: "suspected",
      engines: ["portcullis"],
      path: `/${path}`,
      layer,
      ...(sha256 ? { sha256 } : {}),
      summary: `scheduled task \\${task.name.replaceAll("/", "\\")} ${reasons[0]}`,
      evidence: [
        ...reasons,
        ...task.actions.map((a) => `action: ${a.command}${a.arguments ? ` ${a.arguments}` : ""}`),
        `triggers: ${when}`,
        ...(task.hidden ? ["hidden from the Task Scheduler's default view (Settings/Hidden)"] : []),
        ...(task.runAs ? [`runs as ${task.runAs}`] : []),
      ],
    });
  }
  return out;
}
