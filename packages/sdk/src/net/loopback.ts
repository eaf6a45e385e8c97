/** `host[:port]` is this machine (localhost, 127.0.0.0/8, [::1]): where plain http is as safe as it gets, as Docker treats it. */
export const isLoopbackHost = (host: string) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
