"""The regional ERP of Finsync Brasil: local chart, local cost centers, CSV drops.

BR01 is generated in group terms like every company and translated here, on
the way out, into the regional system's codes and file format. The local chart
is a deterministic function of the group accounts BR01 can post, so the dbt
seeds `map_regional_*.csv` (generated once by `python -m sandbox --write-seeds`
and then owned by analysts) can be checked against it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from sandbox import schemas
from sandbox.fx import decimal_array
from sandbox.journals import DOC_TYPES, PARENT_ONLY_ACCOUNTS, PeriodJournal, posting_accounts
from sandbox.master import (
    ACCOUNT_CODES,
    ACCOUNTS,
    CC_CODES,
    CC_COMPANY,
    CC_FUNCTION,
    COMPANY_CODES,
    CURRENCIES,
    REGIONAL_COMPANY,
    item_normal_balance,
)

LOCAL_COMPANY = "FSBR"
CSV_OPTIONS = pcsv.WriteOptions(delimiter=";", quoting_style="none", quoting_header="none")

# Document types of the regional system (tipo) for each group document type.
LOCAL_DOC_TYPE = {
    "AB": "SI", "RV": "NFS", "WL": "CMV", "DZ": "REC", "KR": "NFE", "KZ": "PAG",
    "PR": "FOL", "SA": "PRV", "AF": "DEP", "IC": "ICO", "TX": "IRP",
}  # fmt: skip
_HISTORICO = {
    "AB": "Saldo inicial {}", "RV": "NF de venda {}", "WL": "Custo da venda {}",
    "DZ": "Recebimento {}", "KR": "NF de entrada {}", "KZ": "Pagamento {}",
    "PR": "Folha de pagamento {}", "SA": "Provisao {}", "AF": "Depreciacao {}",
    "IC": "Taxa de administracao {}", "TX": "Provisao IRPJ e CSLL {}",
}  # fmt: skip
_LOCAL_NAMES = {
    "100000": "Bancos conta movimento",
    "100100": "Bancos conta folha",
    "100200": "Bancos conta cobranca",
    "110000": "Clientes",
    "120200": "Produtos acabados",
    "130000": "Despesas antecipadas",
    "150100": "Edificios",
    "150200": "Maquinas e equipamentos",
    "150300": "Equipamentos de informatica",
    "150400": "Moveis e utensilios",
    "159100": "Depreciacao acumulada edificios",
    "159200": "Depreciacao acumulada maquinas",
    "159300": "Depreciacao acumulada informatica",
    "159400": "Depreciacao acumulada moveis",
    "160000": "Softwares",
    "169000": "Amortizacao acumulada",
    "200000": "Fornecedores",
    "205000": "Partes relacionadas a pagar",
    "210000": "Provisoes diversas",
    "212000": "Encargos sociais a recolher",
    "213000": "Beneficios a pagar",
    "230000": "IRPJ e CSLL a recolher",
    "270000": "Emprestimos de longo prazo",
    "300000": "Capital social",
    "310000": "Reserva de capital",
    "330000": "Lucros acumulados",
    "400000": "Receita Platform",
    "401000": "Receita Analytics",
    "402000": "Receita Connectors",
    "403000": "Receita Hardware",
    "404000": "Receita servicos profissionais",
    "500000": "CMV Platform",
    "501000": "CMV Analytics",
    "502000": "CMV Connectors",
    "503000": "CMV Hardware",
    "504000": "Custo servicos profissionais",
    "510000": "Fretes",
    "520000": "Hospedagem para clientes",
    "540000": "Licencas de terceiros",
    "600000": "Salarios",
    "601000": "Encargos sociais",
    "602000": "Beneficios",
    "603000": "Bonus",
    "605000": "Servicos de terceiros PJ",
    "606000": "Treinamento",
    "607000": "Recrutamento",
    "610000": "Alugueis",
    "611000": "Energia e agua",
    "612000": "Material de escritorio",
    "613000": "Manutencao e reparos",
    "614000": "Limpeza e seguranca",
    "620000": "Passagens aereas",
    "621000": "Refeicoes",
    "622000": "Hospedagem",
    "623000": "Transporte local",
    "630000": "Publicidade",
    "631000": "Eventos e feiras",
    "632000": "Patrocinios",
    "633000": "Agencias de marketing",
    "640000": "Assinaturas de software",
    "641000": "Infraestrutura em nuvem",
    "642000": "Telecomunicacoes",
    "643000": "Equipamentos de TI",
    "650000": "Honorarios juridicos",
    "651000": "Auditoria",
    "652000": "Consultoria",
    "653000": "Assessoria tributaria",
    "660000": "Seguros",
    "670000": "Depreciacao",
    "671000": "Amortizacao",
    "680000": "Taxa de administracao intercompanhia",
    "692000": "Associacoes",
    "693000": "Correios e courier",
    "699000": "Despesas diversas",
    "720000": "Variacao cambial realizada",
    "800000": "IRPJ e CSLL correntes",
}
_LOCAL_FUNCTION = (("VEN", "Vendas"), ("MKT", "Marketing"), ("PED", "Pesquisa e desenvolvimento"),
                   ("OPE", "Operacoes"), ("ADM", "Administrativo"))  # fmt: skip
_RESPONSAVEL = ("Ana Costa", "Bruno Lima", "Carla Souza", "Diego Alves", "Elisa Rocha")


def _local_class(code: str) -> str:
    """Brazilian chart top levels: 1 ativo, 2 passivo e PL, 3 receitas, 4 custos e despesas."""
    first, second = code[0], int(code[1])
    return {
        "1": "1.1" if second < 5 else "1.2",
        "2": "2.1" if second < 5 else "2.2",
        "3": "2.3",
        "4": "3.1",
        "7": "3.2",
        "5": "4.1",
        "6": "4.2",
        "8": "4.3",
    }[first]


def group_accounts() -> tuple[str, ...]:
    """The group accounts the regional company can post."""
    return tuple(a for a in posting_accounts() if a not in PARENT_ONLY_ACCOUNTS)


def account_mapping() -> list[tuple[str, str, str]]:
    """(local code, local name, group code): X.Y from the group class, ZZ numbers the
    group's 3-digit stems within X.Y, NNN the accounts within a stem."""
    out = []
    by_class: dict[str, list[str]] = {}
    for code in group_accounts():
        by_class.setdefault(_local_class(code), []).append(code)
    for cls, codes in by_class.items():
        stems = sorted({c[:3] for c in codes})
        seen: dict[str, int] = {}
        for code in sorted(codes):
            seen[code[:3]] = seen.get(code[:3], 0) + 1
            local = f"{cls}.{stems.index(code[:3]) + 1:02d}.{seen[code[:3]]:03d}"
            out.append((local, _LOCAL_NAMES[code], code))
    return sorted(out)


def cost_center_mapping() -> list[tuple[str, str, str]]:
    """(local code, description, group code) of the regional company's cost centers."""
    ci = COMPANY_CODES.index(REGIONAL_COMPANY)
    out = []
    for i in np.flatnonzero(ci == CC_COMPANY).tolist():
        infix, name = _LOCAL_FUNCTION[CC_FUNCTION[i]]
        n = CC_CODES[i].rsplit("-", 1)[1]
        out.append((f"CC-{infix}-{n}", f"{name} {int(n)}", CC_CODES[i]))
    return out


def company_mapping() -> list[tuple[str, str]]:
    return [(LOCAL_COMPANY, REGIONAL_COMPANY)]


def write_seeds(seeds_dir: Path) -> None:
    """Write the dbt mapping seeds (run once; analysts own them afterwards)."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    accounts = account_mapping()
    ccs = cost_center_mapping()
    files = {
        "map_regional_accounts.csv": (
            "local_account_code,local_account_name,group_account_code",
            [f"{a},{b},{c}" for a, b, c in accounts],
        ),
        "map_regional_cost_centers.csv": (
            "local_cost_center_code,group_cost_center_code",
            [f"{a},{c}" for a, _, c in ccs],
        ),
        "map_regional_companies.csv": (
            "local_company_code,group_company_code",
            [f"{a},{b}" for a, b in company_mapping()],
        ),
    }
    for name, (header, rows) in files.items():
        (seeds_dir / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- extracts
def _local_lookup() -> tuple[np.ndarray, np.ndarray]:
    """Group account index -> local code, group cost center index -> local code."""
    acc_local = np.full(len(ACCOUNT_CODES), None, dtype=object)
    for local, _, group in account_mapping():
        acc_local[ACCOUNT_CODES.index(group)] = local
    cc_local = np.full(len(CC_CODES), None, dtype=object)
    for local, _, group in cost_center_mapping():
        cc_local[CC_CODES.index(group)] = local
    return acc_local, cc_local


def accounts_table() -> pa.Table:
    item_of = {code: item for code, _, item in ACCOUNTS}
    normal = item_normal_balance()
    rows = account_mapping()
    return pa.table(
        {
            "conta": [r[0] for r in rows],
            "descricao": [r[1] for r in rows],
            "natureza": [normal[item_of[r[2]]] for r in rows],
        },
        schema=schemas.REGIONAL_ACCOUNTS,
    )


def cost_centers_table() -> pa.Table:
    rows = cost_center_mapping()
    return pa.table(
        {
            "centro_custo": [r[0] for r in rows],
            "descricao": [r[1] for r in rows],
            "responsavel": [_RESPONSAVEL[i % len(_RESPONSAVEL)] for i in range(len(rows))],
        },
        schema=schemas.REGIONAL_COST_CENTERS,
    )


def journal_table(pj: PeriodJournal) -> pa.Table:
    """The regional company's lines of one period in the regional ERP's shape."""
    acc_local, cc_local = _local_lookup()
    sel = pj.lines_of(regional=True)
    d = pj.line_doc[sel]
    unmapped = acc_local[pj.account[sel]] == None  # noqa: E711 (object array)
    if unmapped.any():
        raise ValueError("regional line on a group account outside the local chart")
    cc_idx = pj.cost_center[sel]
    cc_amount = pj.cc_amount[sel]
    texts = []
    for t, ref, rev in zip(
        pj.doc_type.tolist(), pj.doc_reference.tolist(), pj.doc_reversal_of.tolist(), strict=True
    ):
        texts.append(
            f"Estorno de {rev}" if rev is not None else _HISTORICO[DOC_TYPES[t]].format(ref)
        )
    partner = pj.partner[sel]
    return pa.table(
        {
            "empresa": pa.array(np.full(len(sel), LOCAL_COMPANY)),
            "numero_lancamento": pa.array(pj.doc_number[d].tolist(), pa.string()),
            "linha": pj.line_no[sel].astype(np.int32),
            "tipo": pa.array([LOCAL_DOC_TYPE[t] for t in DOC_TYPES]).take(pa.array(pj.doc_type[d])),
            "data_lancamento": pa.array(pj.doc_posting[d].astype(np.int32), pa.date32()),
            "conta": pa.array(acc_local[pj.account[sel]].tolist(), pa.string()),
            "centro_custo": pa.array(
                np.where(cc_idx >= 0, cc_local[cc_idx], None).tolist(), pa.string()
            ),
            "parceiro": pa.array(COMPANY_CODES).take(pa.array(partner, mask=partner < 0)),
            "moeda": pa.array(CURRENCIES).take(pa.array(pj.doc_currency[d])),
            "valor_moeda": decimal_array(pj.amount[sel], schemas.AMOUNT),
            "debito_brl": decimal_array(np.maximum(cc_amount, 0), schemas.AMOUNT),
            "credito_brl": decimal_array(np.maximum(-cc_amount, 0), schemas.AMOUNT),
            "estorno_de": pa.array(pj.doc_reversal_of[d].tolist(), pa.string()),
            "historico": pa.array(texts, pa.string()).take(pa.array(d)),
        },
        schema=schemas.REGIONAL_JOURNAL_LINES,
    )


def _as_text(table: pa.Table) -> pa.Table:
    """Regional formatting: decimal comma, dd/mm/yyyy, everything as text."""
    cols = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_decimal(col.type):
            col = pc.replace_substring(pc.cast(col, pa.string()), ".", ",")
        elif pa.types.is_date(col.type):
            col = pc.strftime(pc.cast(col, pa.timestamp("s")), format="%d/%m/%Y")
        elif not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        cols[name] = col
    return pa.table(cols)


def write_csv(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcsv.write_csv(_as_text(table), path, CSV_OPTIONS)


def read_csv(path: Path, schema: pa.Schema) -> pa.Table:
    """Read a regional CSV back into its Arrow schema (used by tests and the manifest)."""
    text_schema = pa.schema([(f.name, pa.string()) for f in schema])
    raw = pcsv.read_csv(
        path,
        parse_options=pcsv.ParseOptions(delimiter=";"),
        convert_options=pcsv.ConvertOptions(column_types=text_schema, strings_can_be_null=True),
    )
    cols = {}
    for f in schema:
        col = raw[f.name]
        if pa.types.is_decimal(f.type):
            col = pc.cast(pc.replace_substring(col, ",", "."), f.type)
        elif pa.types.is_date(f.type):
            col = pc.cast(pc.strptime(col, format="%d/%m/%Y", unit="s"), pa.date32())
        elif not pa.types.is_string(f.type):
            col = pc.cast(col, f.type)
        cols[f.name] = col
    return pa.table(cols, schema=schema)
