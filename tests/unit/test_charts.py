"""Server-drawn charts: every value is escaped, and a month with no figures is labelled once."""

from __future__ import annotations

from bs4 import BeautifulSoup

from webui.reports.charts import grouped_bars


def test_a_month_without_figures_is_labelled_once_and_names_are_escaped() -> None:
    html = str(grouped_bars("c", "Plans <b>issued</b>", "Two months", ["Jan 2026", "Feb 2026"],
                            [("Including", [None, 50.0]), ("Excluding <i>x</i>", [None, None])]))
    page = BeautifulSoup(html, "html.parser")
    labels = [t.get_text() for t in page.select("svg text") if t.get_text() == "none"]
    assert labels == ["none"]  # January: one label for both series; February has a bar, so no label
    assert len(page.select("svg rect title")) == 1  # the legend keys are rects too, without a title
    assert page.select("b, i") == [] and "Plans &lt;b&gt;issued&lt;/b&gt;" in html
