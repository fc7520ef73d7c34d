// Baton console: draws the Mermaid graphs, keeps lists and running executions fresh, and sends
// the buttons' requests to the REST API with a token for the execution's tenant.
(function () {
  "use strict";
  const key = document.querySelector('meta[name="baton-console"]').content;

  if (window.mermaid) {
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
    window.mermaid
      .run({ querySelector: "pre.mermaid" })
      .then(() => { document.body.dataset.graph = "drawn"; })
      .catch((error) => { document.body.dataset.graph = "error: " + error.message; });
  } else {
    document.body.dataset.graph = "no mermaid (run make install)";
  }

  const rows = document.getElementById("executions");
  if (rows) {
    setInterval(async () => {
      const answer = await fetch(rows.dataset.rows);
      if (answer.ok) { rows.innerHTML = await answer.text(); }
    }, 1500);
  }

  let busy = false; // a button's request is on its way: the page must not reload under it
  if (document.body.dataset.refresh === "1") {
    setInterval(() => { if (!busy) { window.location.reload(); } }, 1000);
  }

  async function token(tenant) {
    const answer = await fetch("/console/token", {
      method: "POST",
      headers: { "X-Baton-Console": key, "Content-Type": "application/json" },
      body: JSON.stringify({ tenant: tenant }),
    });
    const body = await answer.json();
    if (!answer.ok) { throw new Error(body.message); }
    return body.token;
  }

  async function api(method, path, tenant, body) {
    const bearer = await token(tenant);
    const answer = await fetch(path, {
      method: method,
      headers: { Authorization: "Bearer " + bearer, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await answer.json();
    if (!answer.ok) { throw new Error(reply.message || String(answer.status)); }
    return reply;
  }

  function executionPage(record) {
    return "/console/executions/" + encodeURIComponent(record.tenant) + "/" +
      encodeURIComponent(record.executionId);
  }

  const form = document.getElementById("start-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const shown = document.getElementById("start-error");
      shown.textContent = "";
      let input;
      try {
        input = JSON.parse(document.getElementById("start-input").value || "{}");
      } catch (error) {
        shown.textContent = "input: " + error.message;
        return;
      }
      const tenant = document.getElementById("start-tenant").value.trim();
      const noCache = document.getElementById("start-no-cache").checked;
      busy = true;
      try {
        const path = "/workflows/" + encodeURIComponent(form.dataset.workflow) + "/executions";
        const record = await api("POST", path, tenant, { input: input, noCache: noCache });
        window.location.href = executionPage(record);
      } catch (error) {
        shown.textContent = error.message;
        busy = false;
      }
    });
  }

  const execution = document.getElementById("execution");
  document.querySelectorAll("button.action").forEach((button) => {
    button.addEventListener("click", async () => {
      const shown = document.getElementById("action-error");
      shown.textContent = "";
      button.disabled = true;
      busy = true;
      const path = "/executions/" + encodeURIComponent(execution.dataset.execution) + "/" +
        button.dataset.action;
      try {
        await api("POST", path, execution.dataset.tenant);
        window.location.reload();
      } catch (error) {
        shown.textContent = error.message;
        button.disabled = false;
        busy = false;
      }
    });
  });
})();
