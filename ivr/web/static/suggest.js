// Suggestions as you type, on top of a search that works without JavaScript: the same JSON search
// (/help/api/search), its answer or choices shown as links under the box. Asked with suggest=1, so a
// half-typed question is not counted as a search on the insights page.
(function () {
  const box = document.getElementById("q");
  const list = document.getElementById("suggestions");
  if (!box || !list) return;
  const lang = document.documentElement.lang;
  let timer = null;
  let asked = "";
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  });
  async function suggest() {
    const q = box.value.trim();
    if (q === asked) return;
    asked = q;
    if (q.length < 3) { list.replaceChildren(); return; }
    try {
      const url = "/help/api/search?suggest=1&lang=" + encodeURIComponent(lang) + "&q=" + encodeURIComponent(q);
      const found = await (await fetch(url, { headers: { Accept: "application/json" } })).json();
      if (q !== asked) return;
      list.replaceChildren(...(found.entries || []).map(function (entry) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = entry.url;
        link.textContent = entry.question;
        item.append(link);
        return item;
      }));
    } catch (error) {
      list.replaceChildren();
    }
  }
})();
