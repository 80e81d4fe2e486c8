// Scheduled tasks (Task Scheduler XML under Windows\System32\Tasks, written as Windows writes them:
// UTF-16LE with a BOM, Microsoft's task schema) and Startup folders, read by the content engine in
// the real layer walk: planted tasks and Startup entries are findings with their reasons; tasks
// shaped like Windows' own (System32, Program Files, bare names, COM handlers) are not.
import { describe, expect, it } from "vitest";
import {
  judgeTask,
  MAX_TASK_BYTES,
  readScheduledTask,
} from "../../../shared/analysis/content/scheduled-tasks.js";
import { contentOfLayers } from "./support/windows-content.js";

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A task definition as schtasks /create writes it: UTF-16LE, BOM, the 1.2 task schema. */
function taskXml(options: {
  exec?: { command: string; arguments?: string }[];
  triggers?: string[];
  hidden?: boolean;
  user?: string;
  com?: boolean;
}): Buffer {
  const triggers = (options.triggers ?? []).map(
    (t) => `    <${t}>\r\n      <Enabled>true</Enabled>\r\n    </${t}>`,
  );
  const actions = (options.exec ?? []).map(
    (e) =>
      `    <Exec>\r\n      <Command>${xmlEscape(e.command)}</Command>\r\n${
        e.arguments !== undefined ? `      <Arguments>${xmlEscape(e.arguments)}</Arguments>\r\n` : ""
      }    </Exec>`,
  );
  if (options.com)
    actions.push(
      "    <ComHandler>\r\n      <ClassId>{47E30D54-DAC1-473A-AFF7-2355BF78881F}</ClassId>\r\n    </ComHandler>",
    );
  const text = [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    "  <RegistrationInfo>\r\n    <URI>\\Test</URI>\r\n  </RegistrationInfo>",
    `  <Triggers>\r\n${triggers.join("\r\n")}\r\n  </Triggers>`,
    `  <Principals>\r\n    <Principal id="Author">\r\n      <UserId>${options.user ?? "S-1-5-18"}</UserId>\r\n      <RunLevel>HighestAvailable</RunLevel>\r\n    </Principal>\r\n  </Principals>`,
    `  <Settings>\r\n    <Hidden>${options.hidden ? "true" : "false"}</Hidden>\r\n    <Enabled>true</Enabled>\r\n  </Settings>`,
    `  <Actions Context="Author">\r\n${actions.join("\r\n")}\r\n  </Actions>`,
    "</Task>",
  ].join("\r\n");
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
}

const TASKS = "Files/Windows/System32/Tasks";

describe("scheduled tasks and Startup folders", () => {
  it("reports planted tasks and Startup entries with their reasons; Windows-shaped ones are not findings", async () => {
    const base: [string, Buffer][] = [
      [
        `${TASKS}/Microsoft/Windows/Chkdsk/ProactiveScan`,
        taskXml({ com: true, triggers: ["BootTrigger"], hidden: true }),
      ],
      [
        `${TASKS}/Microsoft/Windows/Servicing/StartComponentCleanup`,
        taskXml({
          exec: [
            {
              command: "%windir%\\system32\\rundll32.exe",
              arguments: "/d acproxy.dll,PerformAutochkOperations",
            },
          ],
          triggers: ["CalendarTrigger"],
        }),
      ],
      [
        `${TASKS}/Microsoft/Windows/PowerShell/ScheduledJobs/Cleanup`,
        taskXml({
          exec: [
            {
              command: "powershell.exe",
              arguments: "-NoProfile -File %windir%\\system32\\WindowsPowerShell\\v1.0\\cleanup.ps1",
            },
          ],
          triggers: ["BootTrigger"],
          hidden: true,
        }),
      ],
      [
        `${TASKS}/Vendor Agent Update`,
        taskXml({ exec: [{ command: '"C:\\Program Files\\Vendor\\agent.exe"', arguments: "--update" }] }),
      ],
      [
        "Files/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/desktop.ini",
        Buffer.from("[.ShellClassInfo]\r\n"),
      ],
    ];
    const planted: [string, Buffer][] = [
      [
        `${TASKS}/Microsoft/Windows/UpdateOrchestrator/Refresh`,
        taskXml({
          exec: [{ command: "C:\\Users\\Public\\svc.exe", arguments: "-q" }],
          triggers: ["LogonTrigger", "BootTrigger"],
          hidden: true,
        }),
      ],
      [
        `${TASKS}/Sync`,
        taskXml({
          exec: [
            {
              command: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
              arguments: "-w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=",
            },
          ],
          triggers: ["LogonTrigger"],
        }),
      ],
      [
        `${TASKS}/Cleanup`,
        taskXml({
          exec: [
            { command: "cmd.exe", arguments: "/c C:\\ProgramData\\cache\\run.bat & curl http://127.0.0.1/x" },
          ],
          triggers: ["TimeTrigger"],
        }),
      ],
      [
        "Files/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/updater.lnk",
        Buffer.from("L\0\0\0shortcut"),
      ],
      [
        "Files/Users/ContainerUser/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/run.vbs",
        Buffer.from('CreateObject("WScript.Shell").Run "C:\\Users\\Public\\svc.exe", 0\r\n'),
      ],
    ];
    const clean = await contentOfLayers([base]);
    expect(clean.fact.findings).toEqual([]);
    expect(clean.fact.warnings ?? []).toEqual([]);

    const { fact, reports } = await contentOfLayers([base, planted]);
    const persistence = fact.findings.filter((f) => f.category === "persistence");
    expect(persistence.map((f) => [f.rule, f.path]).sort()).toEqual(
      [
        ["persistence/windows-scheduled-task", `/${TASKS}/Cleanup`],
        ["persistence/windows-scheduled-task", `/${TASKS}/Microsoft/Windows/UpdateOrchestrator/Refresh`],
        ["persistence/windows-scheduled-task", `/${TASKS}/Sync`],
        [
          "persistence/windows-startup-folder",
          "/Files/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/updater.lnk",
        ],
        [
          "persistence/windows-startup-folder",
          "/Files/Users/ContainerUser/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/run.vbs",
        ],
      ].sort(),
    );
    for (const f of persistence) {
      expect(f.layer).toBe(reports[1]!.digest);
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const refresh = persistence.find((f) => f.path.endsWith("/Refresh"))!;
    expect(refresh.summary).toBe(
      "scheduled task \\Microsoft\\Windows\\UpdateOrchestrator\\Refresh runs C:\\Users\\Public\\svc.exe, outside System32 and Program Files",
    );
    expect(refresh.evidence).toEqual(
      expect.arrayContaining([
        "action: C:\\Users\\Public\\svc.exe -q",
        "triggers: LogonTrigger, BootTrigger",
        "hidden from the Task Scheduler's default view (Settings/Hidden)",
        "runs as S-1-5-18",
      ]),
    );
    expect(persistence.find((f) => f.path.endsWith("/Sync"))!.evidence).toContain(
      "its arguments runs an encoded PowerShell command",
    );
    expect(persistence.find((f) => f.path.endsWith("/Cleanup"))!.evidence).toEqual(
      expect.arrayContaining([
        "its arguments name C:\\ProgramData\\cache\\run.bat, outside System32 and Program Files",
        "its arguments names a URL",
      ]),
    );
  });

  it("reads UTF-8 task files and XML escapes; hostile task files are warnings, never crashes", async () => {
    const utf8 = Buffer.from(
      '<?xml version="1.0"?><Task xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Actions><Exec><Command>C:\\Temp\\a&amp;b.exe</Command></Exec></Actions></Task>',
    );
    const read = readScheduledTask("T", utf8);
    expect(read).toMatchObject({ actions: [{ command: "C:\\Temp\\a&b.exe" }], triggers: [], hidden: false });
    if ("error" in read) throw new Error(read.error);
    expect(judgeTask(read)).toEqual(["runs C:\\Temp\\a&b.exe, outside System32 and Program Files"]);

    expect(readScheduledTask("T", Buffer.from([0xff, 0xfe, 0x00]))).toEqual({
      error: "task T is not a Task Scheduler XML definition",
    });
    expect(readScheduledTask("T", Buffer.alloc(MAX_TASK_BYTES + 1, 0x3c))).toEqual({
      error: `task T is ${MAX_TASK_BYTES + 1} bytes; at most ${MAX_TASK_BYTES} are read`,
    });
    // unterminated elements and thousands of actions: bounded, linear
    const hostile = `<Task>${"<Exec><Command>x".repeat(20_000)}${"<Exec><Command>C:\\x.exe</Command></Exec>".repeat(5000)}</Task>`;
    const many = readScheduledTask("T", Buffer.from(hostile));
    expect("actions" in many && many.actions.length).toBeLessThanOrEqual(32);

    const { reports } = await contentOfLayers([[[`${TASKS}/Broken`, Buffer.from("\u0000\u0001not xml")]]]);
    expect(reports[0]!.warnings).toContainEqual(
      expect.objectContaining({
        code: "content-task-unreadable",
        message: "task Broken is not a Task Scheduler XML definition",
        path: `${TASKS}/Broken`,
      }),
    );
  });
});
