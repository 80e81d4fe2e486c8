/** Where `npm run package` writes the Functions zip (ignored by git, beside the other local state). */
export const DEFAULT_PACKAGE_PATH = new URL("../.portcullis/deploy/functions.zip", import.meta.url);
