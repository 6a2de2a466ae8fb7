/** The program version, reported by `--version`, the banner, and the greetings. */
export const VERSION = "0.1.0";
