// What the registry and the relay need to know of Telegram before (or without) loading grammY.

export const TELEGRAM_MAX_LENGTH = 4096;
