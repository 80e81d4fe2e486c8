/** NCRONTAB (with seconds), UTC: the rescan sweep hourly, the DB refresh every six hours. */
export const RESCAN_SCHEDULE = "0 15 * * * *";
export const DB_REFRESH_SCHEDULE = "0 0 */6 * * *";
