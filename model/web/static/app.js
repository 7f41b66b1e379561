// ree-plan's page: no build step, no outside address. Two small helpers:
// a workbook dropped on the upload box is sent at once, and a run's page follows its progress.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  const input = document.getElementById("workbook");
  if (form && input) {
    ["dragenter", "dragover"].forEach((kind) =>
      form.addEventListener(kind, (e) => { e.preventDefault(); form.classList.add("over"); }));
    ["dragleave", "drop"].forEach((kind) =>
      form.addEventListener(kind, () => form.classList.remove("over")));
    form.addEventListener("drop", (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        form.submit();
      }
    });
    input.addEventListener("change", () => { if (input.files.length) form.submit(); });
  }

  const run = document.getElementById("run");
  if (run && (run.dataset.status === "queued" || run.dataset.status === "running")) {
    const status = document.getElementById("status");
    const progress = document.getElementById("progress");
    const follow = async () => {
      try {
        const answer = await fetch(`/api/runs/${run.dataset.run}`, { credentials: "same-origin" });
        if (!answer.ok) { window.location.reload(); return; }
        const r = await answer.json();
        status.textContent = r.status;
        status.className = `status ${r.status}`;
        const seconds = r.seconds ? ` (${Math.round(r.seconds)} s)` : "";
        progress.textContent = (r.progress || "") + seconds;
        if (r.status !== "queued" && r.status !== "running") { window.location.reload(); return; }
      } catch (err) {
        progress.textContent = "the server does not answer; retrying";
      }
      setTimeout(follow, 700);
    };
    setTimeout(follow, 300);
  }
});
