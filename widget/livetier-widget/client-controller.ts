/**
 * The widget's SDK client as a lifecycle: made when the element is connected with a `server` and
 * a `stream`, remade when they (or `token`, `video`) change, closed when the element leaves the
 * page. A client handed in from outside (`element.client = LiveTier.init(...)`) is used as is
 * and never closed by the element.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { init, type InitOptions, type LiveTierClient, type LiveTierError, type OfferPayload, type PollPayload } from '../../sdk/index.js';

export class ClientController implements ReactiveController {
  private current: LiveTierClient | null = null;
  private external: LiveTierClient | null = null;
  private owned = false;
  private connected = false;
  private key = '';
  private unsubscribe: () => void = () => {};

  constructor(
    host: ReactiveControllerHost,
    /** what the element asks for now; null: not enough to connect */
    private readonly options: () => InitOptions | null,
    private readonly onOffer: (offer: OfferPayload) => void,
    private readonly onError: (error: LiveTierError) => void = () => {},
    private readonly onPoll: (poll: PollPayload) => void = () => {},
  ) {
    host.addController(this);
  }

  get client(): LiveTierClient | null {
    return this.current ?? this.external;
  }

  /** Uses a client made elsewhere (null: go back to making one from the attributes). */
  use(client: LiveTierClient | null) {
    this.external = client;
    this.release();
    if (this.connected) this.sync();
  }

  hostConnected() {
    this.connected = true;
    this.sync();
  }

  hostUpdate() {
    this.sync();
  }

  hostDisconnected() {
    this.connected = false;
    this.release();
  }

  private sync() {
    if (!this.connected) return;
    if (this.external) {
      if (this.current !== this.external) this.attach(this.external, false, '');
      return;
    }
    const options = this.options();
    // consent is the client's own state (`client.consent()`): a change does not make a new client
    const key = options ? JSON.stringify({ ...options, consent: undefined }) : '';
    if (key === this.key) return;
    this.release();
    if (options) this.attach(init(options), true, key);
  }

  private attach(client: LiveTierClient, owned: boolean, key: string) {
    this.current = client;
    this.owned = owned;
    this.key = key;
    const offOffer = client.on('offer', this.onOffer);
    const offError = client.on('error', this.onError);
    const offPoll = client.on('poll', this.onPoll);
    this.unsubscribe = () => (offOffer(), offError(), offPoll());
  }

  private release() {
    this.unsubscribe();
    this.unsubscribe = () => {};
    if (this.owned) this.current?.close();
    this.current = null;
    this.owned = false;
    this.key = '';
  }
}
