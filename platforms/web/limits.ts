/** Whole answers: the console's page scrolls, so nothing is split. */
export const WEB_MAX_LENGTH = 1_000_000;
