// The storefront: register, log in, deposit, shop, and follow each order's
// saga until it settles. Everything goes to the same origin's public API.
import { call, ApiError, messageOf, uuid } from "../common/api";
import { h, replace, byId, money, announce } from "../common/dom";
import { clearErrors, showProblem, value } from "../common/forms";
import { Session } from "./session";

interface Product { sku: string; name: string; price_cents: number }
interface OrderItem { sku: string; name: string; quantity: number; line_total_cents: number }
interface Order {
  id: string;
  status: "pending" | "confirmed" | "cancelled";
  total_cents: number;
  items: OrderItem[];
  failure_reason: string | null;
  created_at: string;
}
interface HistoryStep { seq: number; step: string; outcome: string; detail: string; at: string }
interface History { status: string; next_step: string | null; steps: HistoryStep[] }
interface User { id: string; email: string; name: string; role: string }

const status = byId("status");
const session = new Session(() => {
  showLoggedOut();
  announce(status, "Your session ended; please log in again.", "error");
});
const cart = new Map<string, number>();
let products: Product[] = [];
const traces = new Map<string, string>(); // order id → trace id of its placement
const watching = new Set<string>();

const short = (id: string) => id.slice(0, 8);

function fail(err: unknown, what: string): void {
  announce(status, `${what}: ${messageOf(err)}`, "error");
}

// Account.

byId<HTMLFormElement>("register").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget as HTMLFormElement;
  clearErrors(form);
  const body = { name: value(form, "name"), email: value(form, "email"), password: value(form, "password") };
  try {
    await call("POST", "/api/v1/users", { body });
    await session.login(body.email, body.password);
    form.reset();
    await showLoggedIn();
    announce(status, `Registered and logged in as ${body.email}.`);
  } catch (err) {
    showProblem(form, err);
    fail(err, "Registration failed");
  }
});

byId<HTMLFormElement>("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget as HTMLFormElement;
  clearErrors(form);
  try {
    await session.login(value(form, "email"), value(form, "password"));
    form.reset();
    await showLoggedIn();
    announce(status, "Logged in.");
  } catch (err) {
    showProblem(form, err);
    fail(err, "Login failed");
  }
});

byId("logout").addEventListener("click", async () => {
  await session.logout();
  showLoggedOut();
  announce(status, "Logged out.");
  byId("login-email").focus();
});

async function showLoggedIn(): Promise<void> {
  const me = await session.call<User>("GET", "/api/v1/users/me");
  byId("who").textContent = `Logged in as ${me.body.name} (${me.body.email})`;
  byId("account").hidden = true;
  byId("logout").hidden = false;
  byId("wallet").hidden = false;
  byId("cart-section").hidden = false;
  byId("orders-section").hidden = false;
  renderCatalog();
  renderCart();
  await Promise.all([refreshWallet(), refreshOrders()]);
}

function showLoggedOut(): void {
  byId("who").textContent = "";
  byId("account").hidden = false;
  byId("logout").hidden = true;
  byId("wallet").hidden = true;
  byId("cart-section").hidden = true;
  byId("orders-section").hidden = true;
  cart.clear();
  replace(byId("orders"));
  renderCatalog();
}

// Wallet.

async function refreshWallet(): Promise<number> {
  const w = await session.call<{ balance_cents: number }>("GET", "/api/v1/wallet");
  byId("balance").textContent = money(w.body.balance_cents);
  return w.body.balance_cents;
}

byId<HTMLFormElement>("deposit").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget as HTMLFormElement;
  clearErrors(form);
  const raw = value(form, "amount_cents");
  const amount = Number(raw);
  try {
    await session.call("POST", "/api/v1/wallet/deposits", {
      body: { amount_cents: raw === "" || !Number.isFinite(amount) ? raw : amount },
    });
    form.reset();
    const balance = await refreshWallet();
    announce(status, `Deposited ${money(amount)}; the balance is ${money(balance)}.`);
  } catch (err) {
    showProblem(form, err);
    fail(err, "Deposit failed");
  }
});

// Catalog and cart.

async function loadCatalog(): Promise<void> {
  try {
    const list = await call<{ items: Product[] }>("GET", "/api/v1/products");
    products = list.body.items;
    renderCatalog();
  } catch (err) {
    fail(err, "The catalog could not be loaded");
  }
}

function renderCatalog(): void {
  replace(
    byId("catalog"),
    ...products.map((p) =>
      h("li", {}, h("span", { class: "name" }, p.name), " ", h("span", { class: "price" }, money(p.price_cents)), " ",
        session.loggedIn
          ? h("button", { type: "button", "aria-label": `Add ${p.name} to the cart`, onclick: () => addToCart(p.sku) }, "Add to cart")
          : null),
    ),
  );
}

function addToCart(sku: string): void {
  cart.set(sku, (cart.get(sku) ?? 0) + 1);
  renderCart();
  const p = products.find((x) => x.sku === sku);
  announce(status, `${p?.name ?? sku} added; ${cart.get(sku)} in the cart.`);
}

function renderCart(): void {
  let total = 0;
  const rows = Array.from(cart.entries()).map(([sku, qty]) => {
    const p = products.find((x) => x.sku === sku);
    total += (p?.price_cents ?? 0) * qty;
    return h("li", {}, `${qty} × ${p?.name ?? sku}`, " ",
      h("button", { type: "button", "aria-label": `Remove ${p?.name ?? sku} from the cart`, onclick: () => { cart.delete(sku); renderCart(); } }, "Remove"));
  });
  replace(byId("cart"), ...(rows.length ? rows : [h("li", {}, "The cart is empty.")]));
  byId("cart-total").textContent = money(total);
  byId<HTMLButtonElement>("place-order").disabled = cart.size === 0;
}

// Orders. Each click of "Place order" carries a fresh Idempotency-Key; the
// button is disabled until the answer, and a retry of the same click (a
// lost answer) reuses its key, so no click ever orders twice.

const placeButton = byId<HTMLButtonElement>("place-order");
placeButton.addEventListener("click", async () => {
  if (placeButton.disabled || cart.size === 0) return;
  placeButton.disabled = true;
  byId("order-error").textContent = "";
  const key = uuid();
  const items = Array.from(cart.entries()).map(([sku, quantity]) => ({ sku, quantity }));
  announce(status, "Placing the order…");
  try {
    let answer;
    try {
      answer = await session.call<Order>("POST", "/api/v1/orders", { body: { items }, headers: { "Idempotency-Key": key } });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.problem.status !== 0 && err.problem.status < 500)) throw err;
      answer = await session.call<Order>("POST", "/api/v1/orders", { body: { items }, headers: { "Idempotency-Key": key } });
    }
    const order = answer.body;
    const trace = answer.headers.get("X-Trace-Id");
    if (trace) traces.set(order.id, trace);
    cart.clear();
    renderCart();
    announceOrder(order);
    await Promise.all([refreshOrders(), refreshWallet()]);
    if (order.status === "pending") void watch(order.id);
  } catch (err) {
    byId("order-error").textContent = messageOf(err);
    fail(err, "The order failed");
    renderCart();
  }
});

function describe(o: Order): string {
  return o.failure_reason ? `${o.status}: ${o.failure_reason}` : o.status;
}

function announceOrder(o: Order): void {
  announce(status, `Order ${short(o.id)} ${describe(o)}.`, o.status === "cancelled" ? "error" : "info");
}

// watch polls a pending order until it settles.
async function watch(id: string): Promise<void> {
  if (watching.has(id)) return;
  watching.add(id);
  try {
    for (let i = 0; i < 240 && session.loggedIn; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const o = await session.call<Order>("GET", `/api/v1/orders/${id}`);
      if (o.body.status !== "pending") {
        announceOrder(o.body);
        await Promise.all([refreshOrders(), refreshWallet()]);
        return;
      }
    }
  } catch (err) {
    fail(err, `Order ${short(id)} could not be followed`);
  } finally {
    watching.delete(id);
  }
}

async function refreshOrders(): Promise<void> {
  const page = await session.call<{ items: Order[] }>("GET", "/api/v1/orders?limit=10");
  replace(byId("orders"), ...page.body.items.map(renderOrder));
  for (const o of page.body.items) if (o.status === "pending") void watch(o.id);
}

// consoleURL is the console's address when the server may show it (its
// CONSOLE_URL, or the admin listener on loopback in development); the
// meta tag is filled by the server, empty otherwise.
const consoleURL = document.querySelector<HTMLMetaElement>('meta[name="console-url"]')?.content ?? "";

// renderTrace links an order to its trace in the console, or names the
// trace id where the console's address is not public.
function renderTrace(orderId: string, trace: string): HTMLElement {
  const id = h("code", {}, trace);
  if (!/^https?:\/\/[^/]+$/.test(consoleURL)) return h("p", { class: "trace" }, "Trace id: ", id);
  return h("p", { class: "trace" },
    h("a", { href: `${consoleURL}/console#trace=${trace}`, target: "_blank", rel: "noopener noreferrer",
      "aria-label": `Trace of order ${short(orderId)} in the console` }, "Trace ", id));
}

function renderOrder(o: Order): HTMLElement {
  const steps = h("ol", { class: "steps", id: `steps-${o.id}`, hidden: true });
  const trace = traces.get(o.id);
  return h("li", { class: `order ${o.status}`, "data-order-id": o.id },
    h("h3", {}, `Order ${short(o.id)}`),
    h("p", {}, h("span", { class: "order-status" }, describe(o)), ` · ${money(o.total_cents)} · `,
      o.items.map((i) => `${i.quantity} × ${i.name}`).join(", ")),
    trace ? renderTrace(o.id, trace) : null,
    h("div", { class: "actions" },
      h("button", { type: "button", "aria-expanded": "false", "aria-controls": steps.id, "aria-label": `Steps of order ${short(o.id)}`,
        onclick: (ev) => toggleSteps(o.id, ev.currentTarget as HTMLButtonElement, steps) }, "Steps"),
      o.status === "confirmed"
        ? h("button", { type: "button", "aria-label": `Cancel order ${short(o.id)}`, onclick: (ev) => cancel(o.id, ev.currentTarget as HTMLButtonElement) }, "Cancel order")
        : null),
    steps);
}

async function toggleSteps(id: string, button: HTMLButtonElement, list: HTMLElement): Promise<void> {
  if (!list.hidden) {
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    return;
  }
  try {
    const hist = await session.call<History>("GET", `/api/v1/orders/${id}/history`);
    replace(list, ...hist.body.steps.map((s) => h("li", {}, `${s.step}: ${s.outcome}`, s.detail ? ` (${s.detail})` : "")));
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
  } catch (err) {
    fail(err, "The steps could not be loaded");
  }
}

// cancelTries bounds how long (times cancelRetryMs) the page follows a
// cancellation still under way: the refund runs in orders' saga worker.
const cancelTries = 60;
const cancelRetryMs = 500;

// cancelOrder asks orders to cancel id. Orders answers 202 with the order
// still confirmed when the refund did not finish within its inline time:
// the cancellation is recorded and its saga worker finishes it. The page
// then follows the order (GET, not a second cancel, which would run the
// refund step again) until it is cancelled.
async function cancelOrder(id: string): Promise<Order> {
  const asked = await session.call<Order>("POST", `/api/v1/orders/${id}/cancel`);
  if (asked.body.status === "cancelled") return asked.body;
  announce(status, `Order ${short(id)}: cancelling, the refund is under way.`);
  for (let i = 0; i < cancelTries; i++) {
    await new Promise((r) => setTimeout(r, cancelRetryMs));
    const o = (await session.call<Order>("GET", `/api/v1/orders/${id}`)).body;
    if (o.status === "cancelled") return o;
  }
  throw new Error(`order ${short(id)} is still being cancelled; it will be refunded`);
}

async function cancel(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const o = await cancelOrder(id);
    const balance = await refreshWallet();
    await refreshOrders();
    announce(status, `Order ${short(id)} ${describe(o)}; refunded, the balance is ${money(balance)}.`);
  } catch (err) {
    button.disabled = false;
    fail(err, "The order could not be cancelled");
  }
}

void loadCatalog();
