/**
 * Errors raised by the VICI codec and client.
 *
 * Messages name the command, the element offset or the socket path, never a value: VICI messages carry
 * pre-shared keys (`load-shared`), so no error built here ever quotes message content.
 */
export class ViciError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ViciError';
  }
}

/** Malformed bytes on the wire, or a message tree that cannot be encoded. */
export class ViciProtocolError extends ViciError {
  constructor(message: string) {
    super(message);
    this.name = 'ViciProtocolError';
  }
}

/** The socket could not be reached, or it closed while a command was outstanding. */
export class ViciConnectionError extends ViciError {
  readonly socketPath: string;
  readonly code: string | undefined;
  constructor(message: string, socketPath: string, code?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ViciConnectionError';
    this.socketPath = socketPath;
    this.code = code;
  }
}

/** The daemon answered a command with `success = no`, or does not know the command or event. */
export class ViciCommandError extends ViciError {
  readonly command: string;
  readonly daemonMessage: string | undefined;
  constructor(command: string, detail: string, daemonMessage?: string) {
    super(`VICI command '${command}' failed: ${detail}`);
    this.name = 'ViciCommandError';
    this.command = command;
    this.daemonMessage = daemonMessage;
  }
}

/** No answer within the client-side deadline; the connection is closed because it is out of step. */
export class ViciTimeoutError extends ViciError {
  readonly command: string;
  constructor(command: string, timeoutMs: number) {
    super(`VICI command '${command}' got no answer within ${timeoutMs} ms`);
    this.name = 'ViciTimeoutError';
    this.command = command;
  }
}
