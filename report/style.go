package report

// svgStyle colours the stack; every colour has a dark-mode twin, and every
// result also carries a text mark, so colour is never the only signal.
const svgStyle = `.mb{--bg:#ffffff;--fg:#1b1f24;--muted:#4d565f;--hit:#d3f0d9;--hit-s:#1a7f37;--miss:#ffd6d6;--miss-s:#c4101c;--cas:#ffe3c2;--cas-s:#a64200;--base:#dde6f3;--base-s:#35557a;--unk:#ececec;--unk-s:#6e7781}
@media (prefers-color-scheme: dark){.mb{--bg:#0d1117;--fg:#e6edf3;--muted:#a8b3bf;--hit:#133a22;--hit-s:#56d364;--miss:#4d1719;--miss-s:#ff7b72;--cas:#44280f;--cas-s:#f0a05e;--base:#1c2b40;--base-s:#8cb4e6;--unk:#2d333b;--unk-s:#a8b3bf}}
.mb .bg{fill:var(--bg)}
.mb text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;fill:var(--fg)}
.mb .box{stroke-width:2}
.mb .k-hit .box,.mb .sw.k-hit{fill:var(--hit);stroke:var(--hit-s)}
.mb .k-miss .box,.mb .sw.k-miss{fill:var(--miss);stroke:var(--miss-s)}
.mb .k-cascade .box,.mb .sw.k-cascade{fill:var(--cas);stroke:var(--cas-s);stroke-dasharray:8 4}
.mb .k-base .box,.mb .sw.k-base{fill:var(--base);stroke:var(--base-s)}
.mb .k-unknown .box,.mb .sw.k-unknown{fill:var(--unk);stroke:var(--unk-s)}
.mb .origin .box{stroke-width:5;stroke-dasharray:none}
.mb .mark{font-weight:bold;font-size:15px}
.mb .k-hit .mark{fill:var(--hit-s)}.mb .k-miss .mark{fill:var(--miss-s)}.mb .k-cascade .mark{fill:var(--cas-s)}.mb .k-base .mark{fill:var(--base-s)}.mb .k-unknown .mark{fill:var(--unk-s)}
.mb .ins{font-size:15px}
.mb .empty .ins,.mb .empty .mark{font-size:13px}
.mb .sub,.mb .meta,.mb .note{font-size:12.5px;fill:var(--muted)}
.mb .shared{font-weight:bold;fill:var(--base-s)}
.mb .head{font-size:18px;font-weight:bold}
.mb .legend text{font-size:14px}
.mb .cascade line,.mb .cascade path{stroke:var(--miss-s);stroke-width:4;fill:none}
.mb .cascade polygon,.mb .cascade circle{fill:var(--miss-s)}
.mb .cascade text{fill:var(--miss-s);font-size:13px;font-weight:bold}
.mb .same{font-size:22px;font-weight:bold}
.mb .same.eq{fill:var(--hit-s)}.mb .same.ne{fill:var(--miss-s)}
.mb .g-cached .box,.mb .sw.g-cached{fill:var(--hit);stroke:var(--hit-s)}
.mb .g-partial .box,.mb .sw.g-partial{fill:var(--cas);stroke:var(--cas-s)}
.mb .g-rebuilt .box,.mb .sw.g-rebuilt{fill:var(--miss);stroke:var(--miss-s)}
.mb .g-unknown .box,.mb .sw.g-unknown{fill:var(--unk);stroke:var(--unk-s)}
.mb .g-cached .mark{fill:var(--hit-s)}.mb .g-partial .mark{fill:var(--cas-s)}.mb .g-rebuilt .mark{fill:var(--miss-s)}.mb .g-unknown .mark{fill:var(--unk-s)}
.mb .sname{font-size:15px;font-weight:bold}
.mb .edge path{stroke:var(--muted);stroke-width:2;fill:none}.mb .edge polygon{fill:var(--muted)}`

// pageStyle lays out the HTML page around the picture, sized to be read
// from the back of a classroom.
const pageStyle = `:root{color-scheme:light dark}
body{font:18px/1.45 "DejaVu Sans",system-ui,sans-serif;margin:24px;background:#fff;color:#1b1f24}
h1{font-size:30px;margin:0 0 4px}h2{font-size:22px;margin:28px 0 8px}
.lede{font-size:20px;margin:4px 0}.dim{color:#4d565f;font-size:15px}
figure{margin:16px 0}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:16px;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid #8886;text-align:left;vertical-align:top}
th{font-size:15px}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:15px;overflow-wrap:anywhere}
td.res{font-weight:bold;white-space:nowrap}td.layer code{white-space:nowrap;overflow-wrap:normal}
tr.k-hit td.res{color:#1a7f37}tr.k-miss td.res{color:#c4101c}tr.k-cascade td.res{color:#a64200}tr.k-base td.res{color:#35557a}
tr.out td{opacity:.75}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}.dim{color:#a8b3bf}
tr.k-hit td.res{color:#56d364}tr.k-miss td.res{color:#ff7b72}tr.k-cascade td.res{color:#f0a05e}tr.k-base td.res{color:#8cb4e6}}`
