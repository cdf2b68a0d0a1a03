"""Column names in another language: 'died' names ``overleden``, 'math score' names
``matematicas_3``, 'heating' names ``heizungswahl``.

A company outside the English-speaking world keeps its warehouse in its own language while
its analysts write goals in English. The lexicon gives, for the words goals use to name an
outcome, a measure or a population, their forms in German, Dutch, French, Spanish,
Portuguese and Italian, without accents (names are matched by their letters, accents
stripped). A name part is that word when it is one of the forms, or, for a form of five
letters or more, when it starts or ends with it (German and Dutch write compounds in one
piece: ``heizungswahl`` is heating + choice). It is the general vocabulary of tabular
outcomes and populations, no data set's own names; a match is weaker than the column's own
English name, as a synonym is.
"""

from __future__ import annotations

from functools import cache

from dagster_agentic.kernel.policy.morphology import kinship
from dagster_agentic.kernel.policy.text import name_tokens, unaccented, word_match

__all__ = ["translates"]

_LEXICON: dict[str, str] = {
    # outcomes of people: death, recurrence, participation, approval, success
    "die died dies death dead deaths mortality": "gestorben verstorben sterfte"
    " overleden overlijden dood deces decede mort morts muerte muerto fallecido fallecio"
    " fallecimiento obito morte morto morti decesso deceduto",
    "survive survived survival": "uberleben uberlebt overleving overleefd survie"
    " supervivencia sobrevivencia sobrevida sopravvivenza",
    "recur recurs recurred recurrence relapse relapsed": "rezidiv rezidive recidief recidive"
    " recidiva recaida recurrencia rechute",
    "participate participates participation": "teilnahme teilnehmen deelname deelnemen"
    " participation participa participacion participacao partecipa partecipazione",
    "approve approved approval accept accepted": "genehmigt genehmigung bewilligt"
    " goedgekeurd goedkeuring accorde accepte aprobado aprobada aprovado aprovada approvato"
    " approvata",
    "pass passed success succeed": "bestanden erfolg geslaagd succes reussi aprobado"
    " aprovado superato successo exito sucesso",
    "diagnosis diagnosed": "diagnose diagnostic diagnostico diagnosi",
    "headache headaches migraine": "kopfschmerz kopfschmerzen migrane hoofdpijn migraine"
    " cephalee cefalea cefaleia jaqueca emicrania",
    "pain": "schmerz schmerzen pijn douleur dolor dor dolore",
    "buy bought purchase": "kauf gekauft koop gekocht achat achete compra comprado"
    " acquisto acquistato",
    # populations: whom the rows are about
    "patient patients": "patient patienten patients paciente pacientes paziente pazienti",
    "household households": "haushalt haushalte huishouden huishoudens menage menages hogar"
    " hogares domicilio domicilios famiglia famiglie",
    "student students pupil pupils": "schuler schueler student studenten leerling leerlingen"
    " eleve eleves etudiant etudiants alumno alumnos aluno alunos studente studenti",
    "customer customers client clients": "kunde kunden klant klanten client clients cliente"
    " clientes clienti",
    "member members": "mitglied mitglieder membre membres miembro miembros membro membros"
    " socio soci",
    "worker workers employee employees": "arbeiter mitarbeiter arbeitnehmer werknemer"
    " werknemers employe employes empleado empleados trabajador trabajadores funcionario"
    " funcionarios lavoratore lavoratori lavoratrice lavoratrici dipendente dipendenti",
    "applicant applicants": "antragsteller aanvrager aanvragers candidat candidats"
    " solicitante solicitantes candidato candidatos richiedente richiedenti",
    "plant plants": "pflanze pflanzen plant planten plante plantes planta plantas pianta piante",
    # measures: amounts, durations, scores
    "price prices": "preis preise prijs prix precio preco prezzo",
    "cost costs": "kosten kost cout couts costo costos custo custos",
    "income": "einkommen inkomen revenu ingreso ingresos renda rendimento reddito",
    "wage wages salary pay": "lohn gehalt loon salaire salario salarios stipendio",
    "sales revenue": "umsatz verkauf verkoop omzet ventes vente ventas vendas vendite fatturato",
    "weight": "gewicht poids peso",
    "height": "lengte taille altura altezza",
    "length duration": "dauer lange duur lengte duree durée duracion duracao durata",
    "day days": "tage dagen jour jours dia dias giorno giorni",
    "stay stays hospitalisation hospitalization admission": "aufenthalt verblijf opname"
    " sejour hospitalisation estancia internacion ingreso internacao estadia degenza"
    " ricovero",
    "score scores points": "punkte punktzahl punten score puntuacion puntaje pontuacao"
    " punteggio punti",
    "math maths mathematics": "mathematik mathe wiskunde mathematiques matematicas"
    " matematica matematiche",
    "reading": "lesen lezen lecture lectura leitura lettura",
    "grade grades mark marks": "noten cijfer cijfers nota notas voto voti",
    "yield harvest output production": "ertrag ernte produktion opbrengst oogst productie"
    " rendement recolte production rendimiento cosecha produccion producao colheita"
    " produzione raccolto resa",
    "gross": "brutto bruto brut bruta lordo",
    "net": "netto neto liquido liquida",
    "heating heat": "heizung verwarming chauffage calefaccion aquecimento riscaldamento",
    "choice chosen chooses choose": "wahl keuze choix eleccion escolha scelta",
    "insurance insured": "versicherung versichert verzekering verzekerd assurance assure"
    " seguro asegurado segurado assicurazione assicurato",
    "rating assessment self-assessment": "bewertung beoordeling evaluation evaluacion"
    " avaliacao valutazione autovalutazione",
    "treatment treated": "behandlung behandelt behandeling behandeld traitement traite"
    " tratamiento tratado tratamento trattamento trattato",
    "status condition state": "zustand toestand etat estado stato",
    "vote voted": "stimme abstimmung stemming voto",
    "white": "weiss weisse blanc blanche blanco blanca branco branca bianco bianca",
    "black": "schwarz zwart noir noire negro negra preto preta nero nera",
    "foreign foreigner foreigners immigrant": "auslander auslandisch buitenlands buitenlander"
    " etranger etrangere extranjero extranjera estrangeiro estrangeira straniero straniera"
    " stranieri",
    "credit": "kredit krediet credit credito",
    "card cards": "karte karten kaart kaarten carte cartes tarjeta tarjetas cartao cartoes carta",
    "delay delayed late": "verspatung vertraging retard retraso atraso ritardo",
}
"""English words (any form) -> their names in German, Dutch, French, Spanish, Portuguese and
Italian, accents stripped."""

# Forms that are English words or another language's common words are left out of the
# lexicon ('tot' is dead in German and 'until' in Dutch; 'tag', 'note', 'stem'); the short
# ones left are matched only as a whole name part, never as a piece of one.
_MIN_PIECE = 5


@cache
def _groups() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    return tuple(
        (frozenset(english.split()), frozenset(unaccented(w) for w in foreign.split()))
        for english, foreign in _LEXICON.items()
    )


def _forms_of(word: str) -> frozenset[str]:
    lower = word.lower()
    found: set[str] = set()
    for english, foreign in _groups():
        if any(word_match(lower, e) == 2 or kinship(lower, e) for e in english):
            found |= foreign
    return frozenset(found - {lower})


def translates(word: str, name: str) -> str:
    """The part of ``name`` that is ``word`` in another language, or ''."""
    foreign = _forms_of(word)
    if not foreign:
        return ""
    for part in name_tokens(unaccented(name)):
        if not part.isalpha():
            continue
        if part in foreign:
            return part
        for form in foreign:
            if (
                len(form) >= _MIN_PIECE
                and part != form
                and (part.startswith(form) or part.endswith(form))
            ):
                return part
    return ""
