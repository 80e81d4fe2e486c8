/**
 * Binaries are not named by type: the places images put executables (the OS's own bin directories
 * included) and Windows .exe files. The analyzers that read binaries (Go build info, cargo auditable)
 * select by this one pattern.
 */
export const EXECUTABLE_PLACES = /(?:^|\/)(?:s?bin|libexec|ko-app|app)\/[^/.]+$|\.exe$/i;
