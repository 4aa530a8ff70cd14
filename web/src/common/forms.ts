import { ApiError } from "./api";

// clearErrors removes the messages a previous answer left on form.
export function clearErrors(form: HTMLFormElement): void {
  for (const el of Array.from(form.querySelectorAll<HTMLElement>("[aria-invalid]"))) el.removeAttribute("aria-invalid");
  for (const el of Array.from(form.querySelectorAll<HTMLElement>(".field-error, .form-error"))) el.textContent = "";
}

// showProblem puts a problem's detail next to each field its errors name
// (inputs are named as the API's fields), and the detail in the form's own
// alert when no field is named or the field is not in the form.
export function showProblem(form: HTMLFormElement, err: unknown): void {
  clearErrors(form);
  const formError = form.querySelector<HTMLElement>(".form-error");
  if (!(err instanceof ApiError)) {
    if (formError) formError.textContent = String(err);
    return;
  }
  const p = err.problem;
  let placed = false;
  for (const fe of p.errors ?? []) {
    const input = form.querySelector<HTMLInputElement>(`[name="${CSS.escape(fe.field)}"]`);
    const slot = input ? form.querySelector<HTMLElement>(`#${CSS.escape(input.id)}-error`) : null;
    if (!input || !slot) continue;
    input.setAttribute("aria-invalid", "true");
    slot.textContent = fe.message ? `${fe.field} ${fe.message}` : p.detail ?? "";
    placed = true;
  }
  if (formError) formError.textContent = p.detail ?? "";
  if (placed) form.querySelector<HTMLElement>("[aria-invalid]")?.focus();
}

export function value(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement ? el.value : "";
}
