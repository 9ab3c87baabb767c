// The console works without this script; with it, a search changes only the result region (htmx),
// and a screen reader hears the new count: the summary's first sentence goes into a status region
// that stays on the page.
document.addEventListener("htmx:afterSwap", (event) => {
  const status = document.getElementById("results-status");
  if (!status || event.detail.target.id !== "results") return;
  const summary = document.getElementById("results-summary");
  const refusal = document.querySelector("#results .error-summary");
  status.textContent = refusal ? refusal.textContent.trim() : summary ? summary.textContent.split("。")[0] + "。" : "";
});
