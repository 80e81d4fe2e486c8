// The request's scan row is written on acceptance, so the status API and the gate answer before a worker runs.
export { createRequestScan as recordQueuedScan } from "../stages/scan-state.js";
