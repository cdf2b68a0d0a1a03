"""ISO-3166-1 alpha-2 country codes with English names, demonyms and common aliases.

Each entry reads ``CODE Name|Demonym|alias|alias...``; the demonym may be empty. Entries are
packed several to a line to keep the table compact; :data:`COUNTRIES` is the parsed form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    demonym: str
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        """The adjective used in descriptions ("German customers"), else the name."""
        return self.demonym or self.name


_TABLE = """
AD Andorra|Andorran; AE United Arab Emirates|Emirati|UAE; AF Afghanistan|Afghan;
AG Antigua and Barbuda|; AI Anguilla|; AL Albania|Albanian; AM Armenia|Armenian;
AO Angola|Angolan; AQ Antarctica|; AR Argentina|Argentine|Argentinian; AS American Samoa|;
AT Austria|Austrian; AU Australia|Australian; AW Aruba|; AX Åland Islands||Aland Islands|Aland;
AZ Azerbaijan|Azerbaijani; BA Bosnia and Herzegovina|Bosnian|Bosnia;
BB Barbados|Barbadian; BD Bangladesh|Bangladeshi; BE Belgium|Belgian;
BF Burkina Faso|; BG Bulgaria|Bulgarian; BH Bahrain|Bahraini; BI Burundi|; BJ Benin|;
BL Saint Barthélemy||Saint Barthelemy; BM Bermuda|; BN Brunei||Brunei Darussalam;
BO Bolivia|Bolivian; BQ Caribbean Netherlands||Bonaire, Sint Eustatius and Saba|Bonaire;
BR Brazil|Brazilian; BS Bahamas||The Bahamas; BT Bhutan|; BV Bouvet Island|;
BW Botswana|; BY Belarus|Belarusian; BZ Belize|; CA Canada|Canadian;
CC Cocos (Keeling) Islands||Cocos Islands; CD DR Congo||Democratic Republic of the Congo|DRC;
CF Central African Republic|; CG Republic of the Congo||Congo|Congo-Brazzaville;
CH Switzerland|Swiss; CI Côte d'Ivoire||Cote d'Ivoire|Ivory Coast; CK Cook Islands|;
CL Chile|Chilean; CM Cameroon|Cameroonian; CN China|Chinese; CO Colombia|Colombian;
CR Costa Rica|Costa Rican; CU Cuba|Cuban; CV Cabo Verde||Cape Verde; CW Curaçao||Curacao;
CX Christmas Island|; CY Cyprus|Cypriot; CZ Czechia|Czech|Czech Republic;
DE Germany|German|Deutschland; DJ Djibouti|; DK Denmark|Danish; DM Dominica|;
DO Dominican Republic|Dominican; DZ Algeria|Algerian; EC Ecuador|Ecuadorian;
EE Estonia|Estonian; EG Egypt|Egyptian; EH Western Sahara|; ER Eritrea|Eritrean;
ES Spain|Spanish|España; ET Ethiopia|Ethiopian; FI Finland|Finnish; FJ Fiji|Fijian;
FK Falkland Islands||Falklands; FM Micronesia||Federated States of Micronesia;
FO Faroe Islands||Faroes; FR France|French; GA Gabon|;
GB United Kingdom|British|UK|Great Britain|Britain|England|Scotland|Wales|Northern Ireland;
GD Grenada|; GE Georgia|Georgian; GF French Guiana|; GG Guernsey|; GH Ghana|Ghanaian;
GI Gibraltar|; GL Greenland|; GM Gambia||The Gambia; GN Guinea|; GP Guadeloupe|;
GQ Equatorial Guinea|; GR Greece|Greek; GS South Georgia and the South Sandwich Islands|;
GT Guatemala|Guatemalan; GU Guam|; GW Guinea-Bissau|; GY Guyana|; HK Hong Kong|;
HM Heard Island and McDonald Islands|; HN Honduras|Honduran; HR Croatia|Croatian;
HT Haiti|Haitian; HU Hungary|Hungarian; ID Indonesia|Indonesian; IE Ireland|Irish;
IL Israel|Israeli; IM Isle of Man|; IN India|Indian; IO British Indian Ocean Territory|;
IQ Iraq|Iraqi; IR Iran|Iranian; IS Iceland|Icelandic; IT Italy|Italian; JE Jersey|;
JM Jamaica|Jamaican; JO Jordan|Jordanian; JP Japan|Japanese; KE Kenya|Kenyan;
KG Kyrgyzstan|; KH Cambodia|Cambodian; KI Kiribati|; KM Comoros|;
KN Saint Kitts and Nevis||St Kitts and Nevis; KP North Korea|; KR South Korea|Korean|Korea;
KW Kuwait|Kuwaiti; KY Cayman Islands|; KZ Kazakhstan|Kazakh; LA Laos|;
LB Lebanon|Lebanese; LC Saint Lucia||St Lucia; LI Liechtenstein|; LK Sri Lanka|Sri Lankan;
LR Liberia|Liberian; LS Lesotho|; LT Lithuania|Lithuanian; LU Luxembourg|Luxembourgish;
LV Latvia|Latvian; LY Libya|Libyan; MA Morocco|Moroccan; MC Monaco|Monegasque;
MD Moldova|Moldovan; ME Montenegro|Montenegrin; MF Saint Martin||Saint-Martin;
MG Madagascar|; MH Marshall Islands|; MK North Macedonia||Macedonia; ML Mali|;
MM Myanmar||Burma; MN Mongolia|Mongolian; MO Macao||Macau; MP Northern Mariana Islands|;
MQ Martinique|; MR Mauritania|; MS Montserrat|; MT Malta|Maltese; MU Mauritius|;
MV Maldives|; MW Malawi|; MX Mexico|Mexican; MY Malaysia|Malaysian; MZ Mozambique|;
NA Namibia|Namibian; NC New Caledonia|; NE Niger|; NF Norfolk Island|;
NG Nigeria|Nigerian; NI Nicaragua|Nicaraguan; NL Netherlands|Dutch|The Netherlands|Holland;
NO Norway|Norwegian; NP Nepal|Nepalese; NR Nauru|; NU Niue|; NZ New Zealand|;
OM Oman|Omani; PA Panama|Panamanian; PE Peru|Peruvian; PF French Polynesia|;
PG Papua New Guinea|; PH Philippines|Filipino|Philippine; PK Pakistan|Pakistani;
PL Poland|Polish; PM Saint Pierre and Miquelon|; PN Pitcairn||Pitcairn Islands;
PR Puerto Rico|Puerto Rican; PS Palestine|Palestinian; PT Portugal|Portuguese; PW Palau|;
PY Paraguay|Paraguayan; QA Qatar|Qatari; RE Réunion||Reunion; RO Romania|Romanian;
RS Serbia|Serbian; RU Russia|Russian|Russian Federation; RW Rwanda|Rwandan;
SA Saudi Arabia|Saudi; SB Solomon Islands|; SC Seychelles|; SD Sudan|Sudanese;
SE Sweden|Swedish; SG Singapore|Singaporean; SH Saint Helena|; SI Slovenia|Slovenian;
SJ Svalbard and Jan Mayen|; SK Slovakia|Slovak; SL Sierra Leone|; SM San Marino|;
SN Senegal|Senegalese; SO Somalia|Somali; SR Suriname|; SS South Sudan|;
ST Sao Tome and Principe||São Tomé and Príncipe; SV El Salvador|Salvadoran;
SX Sint Maarten|; SY Syria|Syrian; SZ Eswatini||Swaziland; TC Turks and Caicos Islands|;
TD Chad|; TF French Southern Territories|; TG Togo|; TH Thailand|Thai; TJ Tajikistan|;
TK Tokelau|; TL Timor-Leste||East Timor; TM Turkmenistan|; TN Tunisia|Tunisian; TO Tonga|;
TR Turkey|Turkish|Türkiye|Turkiye; TT Trinidad and Tobago|; TV Tuvalu|;
TW Taiwan|Taiwanese; TZ Tanzania|Tanzanian; UA Ukraine|Ukrainian; UG Uganda|Ugandan;
UM United States Minor Outlying Islands|;
US United States|American|US|USA|United States of America|America|U.S.|U.S.A.;
UY Uruguay|Uruguayan; UZ Uzbekistan|Uzbek; VA Vatican City||Holy See|Vatican;
VC Saint Vincent and the Grenadines|; VE Venezuela|Venezuelan;
VG British Virgin Islands|; VI US Virgin Islands||U.S. Virgin Islands;
VN Vietnam|Vietnamese|Viet Nam; VU Vanuatu|; WF Wallis and Futuna|; WS Samoa|Samoan;
YE Yemen|Yemeni; YT Mayotte|; ZA South Africa|South African; ZM Zambia|Zambian;
ZW Zimbabwe|Zimbabwean;
XK Kosovo|Kosovar
"""
# XK is not assigned by ISO-3166 but is the code in general use for Kosovo (EU, SWIFT, CLDR).


def _parse(table: str) -> tuple[Country, ...]:
    countries = []
    for entry in table.replace("\n", " ").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        code, rest = entry.split(" ", 1)
        name, demonym, *aliases = rest.split("|")
        countries.append(Country(code, name.strip(), demonym.strip(), tuple(aliases)))
    return tuple(countries)


COUNTRIES: tuple[Country, ...] = _parse(_TABLE)
BY_CODE: dict[str, Country] = {country.code: country for country in COUNTRIES}


# ISO-3166-1 alpha-3 codes, each entry the alpha-2 code then the alpha-3 one ('PTPRT'):
# warehouses often hold countries as PRT, GBR, USA. XKX is Kosovo's code in general use.
_ALPHA3 = """
ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA
AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES
BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK
CLCHL CMCMR CNCHN COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA
DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA
GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS
GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD
IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA
KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA
LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ
MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC
NLNLD NONOR NPNPL NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM
PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC
SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP SVSLV
SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR
TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR
VNVNM VUVUT WFWLF WSWSM XKXKX YEYEM YTMYT ZAZAF ZMZMB ZWZWE
"""
ALPHA3_OF: dict[str, str] = {entry[:2]: entry[2:] for entry in _ALPHA3.split()}
"""The alpha-3 code of each country, by its alpha-2 code."""
BY_ALPHA3: dict[str, str] = {alpha3: alpha2 for alpha2, alpha3 in ALPHA3_OF.items()}
"""The alpha-2 code of each alpha-3 one."""
