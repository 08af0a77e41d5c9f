export const commands: Record<string, never> = {};
