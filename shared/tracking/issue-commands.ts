/** The commands people give on a tracking issue, one per comment line starting with `/portcullis`. */
export type IssueCommand =
  | { kind: "rescan" }
  | { kind: "accept"; id: string; until?: string; reason?: string }
  | { kind: "unaccept"; id: string }
  | { kind: "invalid"; text: string; problem: string };

const VULN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_COMMANDS = 10;

/** Every `/portcullis …` line of a comment (at most ten), parsed; other lines are conversation. */
export function parseIssueCommands(body: string): IssueCommand[] {
  const commands: IssueCommand[] = [];
  for (const raw of body.slice(0, 20_000).split(/\r?\n/)) {
    const line = raw.trim();
    if (!/^\/portcullis(\s|$)/.test(line)) continue;
    commands.push(parseLine(line.slice("/portcullis".length).trim()));
    if (commands.length === MAX_COMMANDS) break;
  }
  return commands;
}

function parseLine(text: string): IssueCommand {
  const words = text.split(/\s+/).filter(Boolean);
  const [verb, id, ...rest] = words;
  const invalid = (problem: string): IssueCommand => ({ kind: "invalid", text: text.slice(0, 200), problem });
  switch (verb) {
    case "rescan":
      return words.length === 1 ? { kind: "rescan" } : invalid("`rescan` takes no arguments");
    case "unaccept":
      if (!id || !VULN_ID.test(id) || rest.length > 0)
        return invalid("usage: `/portcullis unaccept <vuln-id>`");
      return { kind: "unaccept", id };
    case "accept": {
      if (!id || !VULN_ID.test(id))
        return invalid("usage: `/portcullis accept <vuln-id> [until YYYY-MM-DD] [reason…]`");
      let until: string | undefined;
      let reasonWords = rest;
      if (rest[0] === "until") {
        const date = rest[1];
        if (!date || !DATE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
          return invalid("`until` needs a date as YYYY-MM-DD");
        until = date;
        reasonWords = rest.slice(2);
      }
      const reason = reasonWords.join(" ").slice(0, 500);
      return { kind: "accept", id, ...(until ? { until } : {}), ...(reason ? { reason } : {}) };
    }
    default:
      return invalid(verb ? `unknown command \`${verb.slice(0, 40)}\`` : "no command given");
  }
}
