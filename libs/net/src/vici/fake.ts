import type { InitiateRequest, ListSasRequest, LoadSharedRequest, TerminateRequest, ViciEvent, ViciPort, ViciSubscription, ViciVersion } from './client.ts';
import { ViciCommandError, ViciConnectionError } from './errors.ts';
import type { ViciInput, ViciSection } from './message.ts';

/**
 * An in-memory charon for unit tests of code that speaks VICI: connections and shared keys are stored,
 * `initiate` establishes an IKE_SA with one installed CHILD_SA at once (or fails when told to), `terminate`
 * removes it, updown events go to subscribers. Every call is recorded by name (never with secrets).
 */
export class FakeVici implements ViciPort {
  readonly calls: string[] = [];
  readonly conns = new Map<string, ViciInput>();
  /** Shared keys by id: owners only; the secret itself is not kept. */
  readonly shared = new Map<string, readonly string[]>();
  readonly sas = new Map<string, { state: string; child: boolean; uniqueid: number }>();
  /** When set, calls fail as if the socket were gone. */
  unreachable = false;
  /** When set, initiate fails with this charon error message. */
  initiateError: string | undefined;
  private nextId = 1;
  private readonly subscribers = new Set<{ events: readonly string[]; push(e: ViciEvent): void; end(): void }>();

  private call(name: string): void {
    if (this.unreachable) throw new ViciConnectionError('VICI socket /fake/charon.vici unreachable (ENOENT): no such socket', '/fake/charon.vici', 'ENOENT');
    this.calls.push(name);
  }

  async version(): Promise<ViciVersion> {
    this.call('version');
    return { daemon: 'charon', version: 'fake', sysname: 'Linux', release: '', machine: '' };
  }

  async loadConn(name: string, config: ViciInput): Promise<void> {
    this.call(`load-conn ${name}`);
    this.conns.set(name, config);
  }

  async unloadConn(name: string): Promise<void> {
    this.call(`unload-conn ${name}`);
    if (!this.conns.delete(name)) throw new ViciCommandError('unload-conn', `configuration '${name}' not found`);
  }

  async getConns(): Promise<string[]> {
    this.call('get-conns');
    return [...this.conns.keys()];
  }

  async loadShared(req: LoadSharedRequest): Promise<void> {
    this.call(`load-shared ${req.id}`);
    this.shared.set(req.id, [...req.owners]);
  }

  async unloadShared(id: string): Promise<void> {
    this.call(`unload-shared ${id}`);
    if (!this.shared.delete(id)) throw new ViciCommandError('unload-shared', `shared key '${id}' not found`);
  }

  async getShared(): Promise<string[]> {
    this.call('get-shared');
    return [...this.shared.keys()];
  }

  async initiate(req: InitiateRequest): Promise<void> {
    const ike = req.ike ?? req.child;
    this.call(`initiate ${ike}`);
    if (!this.conns.has(ike)) throw new ViciCommandError('initiate', `CHILD_SA config '${req.child}' not found`);
    if (this.initiateError) throw new ViciCommandError('initiate', this.initiateError);
    this.sas.set(ike, { state: 'ESTABLISHED', child: true, uniqueid: this.nextId++ });
    this.emit('ike-updown', { up: 'yes', [ike]: { state: 'ESTABLISHED' } });
    this.emit('child-updown', { up: 'yes', [ike]: { state: 'ESTABLISHED' } });
  }

  async terminate(req: TerminateRequest): Promise<void> {
    const ike = req.ike ?? req.child ?? '';
    this.call(`terminate ${ike}`);
    if (!this.sas.delete(ike)) throw new ViciCommandError('terminate', 'no matching SAs to terminate found');
    this.emit('ike-updown', { up: 'no', [ike]: { state: 'DELETING' } });
  }

  async listSas(req: ListSasRequest = {}): Promise<ViciSection[]> {
    this.call('list-sas');
    return [...this.sas.entries()]
      .filter(([name]) => !req.ike || name === req.ike)
      .map(([name, sa]) => ({
        [name]: {
          uniqueid: String(sa.uniqueid),
          state: sa.state,
          established: '1',
          'child-sas': sa.child ? { [`${name}-${sa.uniqueid}`]: { name, state: 'INSTALLED', 'bytes-in': '100', 'bytes-out': '200' } } : {},
        },
      }));
  }

  async listConns(ike?: string): Promise<ViciSection[]> {
    this.call('list-conns');
    return [...this.conns.keys()].filter((n) => !ike || n === ike).map((n) => ({ [n]: {} }));
  }

  async subscribe(events: readonly string[]): Promise<ViciSubscription> {
    this.call(`subscribe ${events.join(',')}`);
    const queue: ViciEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const sub = {
      events,
      push: (e: ViciEvent) => {
        queue.push(e);
        wake?.();
      },
      end: () => {
        done = true;
        wake?.();
      },
    };
    this.subscribers.add(sub);
    const subscribers = this.subscribers;
    return {
      close: () => {
        subscribers.delete(sub);
        sub.end();
      },
      async *[Symbol.asyncIterator]() {
        while (!done) {
          const next = queue.shift();
          if (next) yield next;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }

  /** Raises an event to subscribers (e.g. a peer going down). */
  emit(name: string, message: ViciSection): void {
    for (const s of this.subscribers) if (s.events.includes(name)) s.push({ name, message });
  }

  close(): void {
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }
}
