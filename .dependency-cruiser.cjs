// The layer map (shared/README.md), enforced by `npm run lint`: a layer imports only layers below
// it (or its own), and a stage never imports another stage.
const LAYERS = [
  ["model"],
  ["ports", "registry", "report", "sbom"],
  ["analysis", "vulndb"],
  ["matching", "policy"],
  // tracking/ (GitHub issues per image stream) sits beside the stages it serves
  ["stages", "tracking"],
  ["hooks"],
  ["http"],
  ["composition"],
  ["local", "cli", "functions"],
];

const folder = (name) => (name === "functions" ? "^functions/" : `^shared/${name}/`);

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.join("-")}`,
  comment: `${layer.join(", ")} may not import a higher layer (${LAYERS.slice(i + 1)
    .flat()
    .join(", ")})`,
  severity: "error",
  from: { path: layer.map(folder) },
  to: { path: LAYERS.slice(i + 1).flat().map(folder) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "no-stage-to-stage",
      comment:
        "a stage (shared/stages/*-stage.ts) never imports another stage, nor the queue list that imports them all: what stages share has its own module",
      severity: "error",
      from: { path: "^shared/stages/([^/]+)-stage\\.ts$" },
      to: {
        path: ["^shared/stages/[^/]+-stage\\.ts$", "^shared/stages/stage-queues\\.ts$"],
        pathNot: "^shared/stages/$1-stage\\.ts$",
      },
    },
    {
      name: "no-shared-module-to-stage",
      comment:
        "the modules stages share never import a stage; only stage-queues.ts (the queue → stage list) does",
      severity: "error",
      from: { path: "^shared/stages/", pathNot: ["-stage\\.ts$", "^shared/stages/stage-queues\\.ts$"] },
      to: { path: "^shared/stages/[^/]+-stage\\.ts$" },
    },
    {
      name: "no-circular",
      comment: "no import cycles between files",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
