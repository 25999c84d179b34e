import { Writable } from 'node:stream';

/** Test support: a writable stream that keeps everything written to it, for asserting on command output. */
export function capture(): { readonly stream: Writable; readonly text: string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return {
    stream,
    get text() {
      return text;
    },
  };
}
