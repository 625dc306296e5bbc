// Calls the library's REST API from the demo's pages, with the CSRF token Django gave the page.
"use strict";

window.demo = (function () {
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Calls the API; resolves to {ok, status, data} and never throws on an HTTP error status.
  async function api(method, url, body) {
    const options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      return { ok: false, status: 0, data: { detail: "The site could not be reached: " + error } };
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (error) { data = { detail: text.slice(0, 300) }; }
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  // The readable message of an API error body (DRF's {"detail": ...} or field errors);
  // labelOf(field) names a field the way the page's form does.
  function errorMessage(result, labelOf) {
    const data = result.data;
    if (!data) return "Request failed (HTTP " + result.status + ").";
    if (typeof data === "string") return data;
    if (data.detail) return String(data.detail);
    const parts = [];
    for (const [field, errors] of Object.entries(data)) {
      const text = Array.isArray(errors) ? errors.join(" ") : (typeof errors === "object" ? JSON.stringify(errors) : String(errors));
      parts.push(field === "non_field_errors" ? text : (labelOf ? labelOf(field) : field) + ": " + text);
    }
    return parts.join(" ") || "Request failed (HTTP " + result.status + ").";
  }

  function formatAmount(minor, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(minor / 100);
    } catch (error) {
      return (minor / 100).toFixed(2) + " " + currency.toUpperCase();
    }
  }

  // The list in a DRF answer, paginated ({"results": [...]}) or not.
  function items(data) {
    if (Array.isArray(data)) return data;
    if (data && Array.isArray(data.results)) return data.results;
    return [];
  }

  function show(element, text, kind) {
    element.textContent = text;
    element.className = "notice " + (kind || "info");
  }

  return { api: api, errorMessage: errorMessage, formatAmount: formatAmount, items: items, show: show };
})();
