//! Paper-ready figures: one file per figure, `data() -> FigureData`, `render() -> SVG`.
