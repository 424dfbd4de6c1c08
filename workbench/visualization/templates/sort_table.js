document.querySelectorAll('table.sortable').forEach(function(table){
  var heads = table.querySelectorAll('thead th');
  heads.forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = !th.classList.contains('asc');
      heads.forEach(function(h){h.classList.remove('asc','desc');});
      th.classList.add(asc ? 'asc' : 'desc');
      var num = th.dataset.type === 'num';
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
        if (x === undefined) { x = a.cells[col].textContent; }
        if (y === undefined) { y = b.cells[col].textContent; }
        var c = num ? (parseFloat(x) - parseFloat(y)) : (x < y ? -1 : x > y ? 1 : 0);
        return asc ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
