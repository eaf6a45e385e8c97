/** TUNA_SETUP_OFFLINE=1 (or true): nothing is asked of the network. */
export const isOffline = (env: NodeJS.ProcessEnv = process.env) => env.TUNA_SETUP_OFFLINE === '1' || env.TUNA_SETUP_OFFLINE === 'true';
