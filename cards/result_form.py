"""The mobile result form (``/form/<token>``): one small HTML page for what a card cannot do —
photos from the camera, the browser's location, signatures drawn on the screen (the party's and
the inspector's; a refusal is recorded with a witness) — plus every field of the result card.

Pure: the page state (a dict) in, HTML out. No external assets: CSS and script are inline and
carry a per-response nonce (the route's CSP allows nothing else). The draft is kept in the
browser (localStorage) until the server confirms a save or a submission, so a dropped
connection on site loses nothing. Photos are scaled down in the browser (longest side 1600 px,
JPEG) before upload.
"""

from __future__ import annotations

import html
import json
from typing import Any

CSS = """
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f2f3f5;color:#1f2329}header{background:#3370ff;color:#fff;padding:12px 14px}header b{font-size:17px}
header small{display:block;opacity:.9}main{padding:8px;max-width:640px;margin:auto}section{background:#fff;
border-radius:8px;padding:10px 12px;margin:8px 0}h2{font-size:15px;margin:0 0 6px}label{display:block;margin:8px 0 2px;
color:#646a73;font-size:13px}input,select,textarea{width:100%;font:inherit;padding:7px 8px;border:1px solid #d0d3d6;
border-radius:6px;background:#fff}textarea{min-height:64px}.row{display:flex;gap:8px}.row>*{flex:1}.chk{display:flex;
align-items:center;gap:6px;margin:4px 0;color:#1f2329;font-size:14px}.chk input{width:auto}.item{border-top:1px solid #eee;
padding-top:6px;margin-top:6px}.pts{color:#8f959e;font-size:12px}button{font:inherit;border:0;border-radius:6px;padding:9px 12px;
background:#e8f0ff;color:#3370ff;margin:4px 4px 0 0}button.primary{background:#3370ff;color:#fff}.err{color:#d83931;font-size:13px}
.bad input,.bad select,.bad textarea{border-color:#d83931}#msg{position:sticky;top:0;z-index:2;display:none;padding:9px 12px;
border-radius:6px;margin:8px 0}#msg.ok{display:block;background:#e8f8ee;color:#1f7a3f}#msg.bad{display:block;
background:#fdecea;color:#b42318}canvas{width:100%;height:140px;border:1px dashed #bbb;border-radius:6px;touch-action:none;
background:#fff}.photos img{width:72px;height:72px;object-fit:cover;border-radius:4px;margin:2px}.muted{color:#8f959e;font-size:12px}
footer{position:sticky;bottom:0;background:#fff;padding:8px;border-top:1px solid #ddd;text-align:center}
"""

SCRIPT = r"""
(function(){
const S=JSON.parse(document.getElementById('state').textContent);const $=id=>document.getElementById(id);
const KEY='chayici-form-'+S.record+'-'+S.person;const base=location.pathname.replace(/\/$/,'');
let local=null;try{local=JSON.parse(localStorage.getItem(KEY)||'null')}catch(e){}
const V=Object.assign({},S.draft,local&&local.values||{});
function h(t,a,...k){const e=document.createElement(t);for(const[n,v]of Object.entries(a||{})){if(v==null||v===false)continue;
if(n==='text')e.textContent=v;else if(n.startsWith('on'))e.addEventListener(n.slice(2),v);else e.setAttribute(n,v===true?'':v)}
for(const c of k.flat())if(c!=null)e.append(c.nodeType?c:document.createTextNode(c));return e}
function keep(){try{localStorage.setItem(KEY,JSON.stringify({values:V,at:Date.now()}))}catch(e){}}
function field(name,label,control){const w=h('div',{'data-f':name},h('label',{text:label}),control,h('div',{class:'err'}));return w}
function input(name,type,extra){const i=h('input',Object.assign({name,type:type||'text'},extra||{}));
i.value=type==='datetime-local'?String(V[name]||'').replace(' ','T').slice(0,16):(V[name]??'');
i.oninput=()=>{V[name]=type==='datetime-local'?i.value.replace('T',' '):i.value;keep()};return i}
function area(name){const t=h('textarea',{name});t.value=V[name]??'';t.oninput=()=>{V[name]=t.value;keep()};return t}
function select(name,opts){const s=h('select',{name},h('option',{value:'',text:'请选择'}),opts.map(([v,l])=>h('option',{value:v,text:l})));
s.value=V[name]??'';s.onchange=()=>{V[name]=s.value;keep()};return s}
function many(name,opts){const cur=new Set((Array.isArray(V[name])?V[name]:String(V[name]||'').split(',')).map(String));
return h('div',{},opts.map(([v,l])=>{const c=h('input',{type:'checkbox',value:v});c.checked=cur.has(String(v));
c.onchange=()=>{if(c.checked)cur.add(String(v));else cur.delete(String(v));V[name]=[...cur];keep()};return h('label',{class:'chk'},c,l)}))}
function check(name,label){const c=h('input',{type:'checkbox'});c.checked=String(V[name])==='true';
c.onchange=()=>{V[name]=c.checked?'true':'false';keep()};return h('label',{class:'chk'},c,label)}
function msg(text,ok){const m=$('msg');m.textContent=text;m.className=ok?'ok':'bad';m.scrollIntoView({block:'nearest'})}
function pad(canvas){const ctx=canvas.getContext('2d');let drawing=false,used=false;
function size(){const r=canvas.getBoundingClientRect();canvas.width=r.width*2;canvas.height=r.height*2;ctx.scale(2,2);ctx.lineWidth=2.2;ctx.lineCap='round'}
function at(e){const r=canvas.getBoundingClientRect();return[e.clientX-r.left,e.clientY-r.top]}
canvas.onpointerdown=e=>{drawing=used=true;canvas.setPointerCapture(e.pointerId);ctx.beginPath();ctx.moveTo(...at(e))};
canvas.onpointermove=e=>{if(drawing){ctx.lineTo(...at(e));ctx.stroke()}};canvas.onpointerup=()=>{drawing=false};
requestAnimationFrame(size);return{data:()=>used?canvas.toDataURL('image/png'):'',clear:()=>{ctx.clearRect(0,0,canvas.width,canvas.height);used=false}}}
const M=[['on_site','实地核查'],['written','书面检查'],['network','网络监测']];
const R=[['pass','合格'],['fail','不合格（限期改正）'],['fail_now','不合格（责令立即改正）'],['na','不涉及']];
const G=[['paper','已在纸质现场检查记录上签名'],['electronic','在本表单上电子签名'],['refused','拒绝签名（须填写见证人）'],['absent','无人在场，无法签名']];
const form=$('form');
const where=h('div',{class:'muted',id:'loc',text:V.lat?('已定位：'+V.lat+'，'+V.lon+'（精度约'+V.accuracy+'米）'):'未定位'});
form.append(h('section',{},h('h2',{text:'检查基本情况'}),field('method','实际检查方式',select('method',M)),
h('div',{class:'row'},field('started_at','开始时间',input('started_at','datetime-local')),field('ended_at','结束时间（留空按提交时间）',input('ended_at','datetime-local'))),
field('place','检查地点',input('place')),where,h('button',{type:'button',onclick:locate,text:'获取当前位置'})));
form.append(h('section',{},h('h2',{text:'在场人员'}),check('nobody_present','无人在场'),
h('div',{class:'row'},field('present_name','姓名',input('present_name')),field('present_position','职务',input('present_position'))),
field('present_phone','电话',input('present_phone',"tel")),field('inspectors','检查人员（不少于2名）',many('inspectors',S.team.map(t=>[String(t.id),t.name+'（'+t.cert+'）'])))));
const items=h('section',{},h('h2',{text:'检查事项'}),h('button',{type:'button',text:'全部合格',onclick:()=>{S.items.forEach(i=>{V['item_'+i.n]='pass'});
V.codes=['1'];keep();msg('已将全部事项设为合格，结果代码设为 1，请核对后提交。',true);setTimeout(()=>location.reload(),600)}}));
for(const i of S.items){const n='item_'+i.n;items.append(h('div',{class:'item'},field(n,i.n+'. '+i.name,select(n,R)),h('div',{class:'pts',text:i.points.join('；')}),
field(n+'_note','情况说明（不合格须写明查实的事实）',area(n+'_note')),
h('div',{class:'row'},field(n+'_deadline','整改期限（默认'+i.default_days+'日，最短'+i.min_days+'日）',input(n+'_deadline','date'))),
field(n+'_requirements','改正内容及要求（可选，留空用通用表述）',area(n+'_requirements'))))}
form.append(items);
form.append(h('section',{},h('h2',{text:'结果代码与告知'}),field('codes','检查结果代码（A、E 须有不合格事项）',many('codes',S.codes)),
field('notices','已告知事项',many('notices',S.notices)),field('narrative','检查情况（可选）',area('narrative'))));
const party=h('canvas',{}),mine=h('canvas',{});
form.append(h('section',{},h('h2',{text:'签名'}),field('signature','当事人签名情况',select('signature',G)),field('witness','见证人（拒绝签名时）',input('witness')),
h('label',{text:'当事人签名'}),party,h('button',{type:'button',text:'清除',onclick:()=>P.clear()}),
h('label',{text:'检查人员签名（'+S.me+'）'}),mine,h('button',{type:'button',text:'清除',onclick:()=>Q.clear()})));
const P=pad(party),Q=pad(mine);
const list=h('div',{class:'photos'},S.evidence.map(e=>h('span',{class:'muted',text:e.kind+' '+e.sha.slice(0,8)+' '})));
const cam=h('input',{type:'file',accept:'image/*',capture:'environment',multiple:true});cam.onchange=()=>{[...cam.files].forEach(upload);cam.value=''};
form.append(h('section',{},h('h2',{text:'现场照片'}),cam,list,h('div',{class:'muted',text:'照片会压缩后上传并计算 SHA-256 存证；也可以在单聊中直接发给机器人。'})));
function locate(){if(!navigator.geolocation){msg('此浏览器不能定位，请手工填写地点。');return}
navigator.geolocation.getCurrentPosition(p=>{V.lat=p.coords.latitude.toFixed(6);V.lon=p.coords.longitude.toFixed(6);V.accuracy=Math.round(p.coords.accuracy);keep();
where.textContent='已定位：'+V.lat+'，'+V.lon+'（精度约'+V.accuracy+'米）'},e=>msg('定位失败：'+e.message),{enableHighAccuracy:true,timeout:15000})}
async function shrink(file){try{const b=await createImageBitmap(file);const k=Math.min(1,1600/Math.max(b.width,b.height));
const c=h('canvas',{});c.width=Math.round(b.width*k);c.height=Math.round(b.height*k);c.getContext('2d').drawImage(b,0,0,c.width,c.height);
return await new Promise(r=>c.toBlob(r,'image/jpeg',0.8))}catch(e){return file}}
async function upload(file){const tag=h('span',{class:'muted',text:file.name+' 上传中… '});list.append(tag);
const body=await shrink(file);const head={'Content-Type':body.type||'application/octet-stream','X-File-Name':encodeURIComponent(file.name),'X-Taken-At':String(file.lastModified||Date.now())};
if(V.lat){head['X-Lat']=V.lat;head['X-Lon']=V.lon;head['X-Accuracy']=String(V.accuracy)}
try{const r=await fetch(base+'/photo',{method:'POST',headers:head,body});const d=await r.json();
if(!r.ok)throw new Error(d.message||r.status);tag.textContent='';tag.append(h('img',{src:URL.createObjectURL(body),alt:file.name,title:d.sha256}),' '+d.sha256.slice(0,8)+' ')}
catch(e){tag.textContent=file.name+' 上传失败（'+e.message+'），';tag.append(h('button',{type:'button',text:'重试',onclick:()=>{tag.remove();upload(file)}}))}}
function show(errors){for(const w of form.querySelectorAll('[data-f]')){const e=errors[w.dataset.f]||'';w.classList.toggle('bad',!!e);w.querySelector('.err').textContent=e}}
async function send(action){const values=Object.assign({},V);const ps=P.data(),qs=Q.data();if(ps)values.party_signature_data=ps;if(qs)values.inspector_signature_data=qs;
const body={values,submission_id:S.submission_id,deprecated_id:S.deprecated_id,draft_version:String(S.draft_version)};
for(const b of document.querySelectorAll('footer button'))b.disabled=true;
try{const r=await fetch(base+'/'+action,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)});
const d=await r.json();show(d.errors||{});
if(d.state){S.draft_version=d.state.draft_version;S.deprecated_id=d.state.deprecated_id;if(d.state.submission_id)S.submission_id=d.state.submission_id;$('status').textContent=d.state.status}
if(r.ok){localStorage.removeItem(KEY);msg(d.message+(d.warnings&&d.warnings.length?'（'+d.warnings.join('；')+'）':''),true)}else msg(d.message||('提交失败：'+r.status))}
catch(e){msg('网络不通，内容已保存在本机，恢复网络后再点一次即可。')}
finally{for(const b of document.querySelectorAll('footer button'))b.disabled=!S.editable}}
$('save').onclick=()=>send('save');$('submit').onclick=()=>send('submit');
if(local)msg('已恢复本机上尚未提交的内容。',true);if(!S.editable){for(const b of document.querySelectorAll('footer button'))b.disabled=true}
})();
"""


def page(state: dict[str, Any], *, nonce: str) -> str:
    data = json.dumps(state, ensure_ascii=False).replace("<", "\\u003c")
    title = html.escape(f"现场检查结果 · {state['object']}")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style nonce="{nonce}">{CSS}</style></head>
<body><header><b>{title}</b><small>{html.escape(state["task"])} · 第{state["version"] or "—"}版 ·
<span id="status">{html.escape(state["status"])}</span></small></header>
<main><div id="msg" role="status"></div><div class="muted">{html.escape(state["hint"])}</div>
<form id="form" onsubmit="return false"></form></main>
<footer><button type="button" id="save">保存草稿（同组可见）</button>
<button type="button" class="primary" id="submit">提交结果</button></footer>
<script type="application/json" id="state">{data}</script>
<script nonce="{nonce}">{SCRIPT}</script></body></html>"""


def message_page(title: str, text: str) -> str:
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>{html.escape(title)}</title></head><body style="font:16px/1.6 system-ui,sans-serif;padding:24px;color:#1f2329">
<h1 style="font-size:18px">{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"""
